import { describe, expect, it } from 'vitest'
import { parseDestination } from '../../lib/destination/parse'
import type {
  HttpDestination,
  LdapDestination,
  MailDestination,
  RfcDestination,
  TcpDestination,
} from '../../lib/destination/types'
import { hasErrorCode } from '../../lib/errors'

const invalid = (props: Record<string, unknown>, property: string, text?: RegExp) => {
  try {
    parseDestination(props, { origin: 'test.json, entry #1' })
  } catch (err) {
    expect(hasErrorCode(err, 'DESTINATION_INVALID')).toBe(true)
    expect((err as { details: Record<string, unknown> }).details.property).toBe(property)
    const msg = (err as Error).message
    expect(msg).toContain(`property "${property}"`)
    expect(msg).toContain('test.json, entry #1')
    if (text) expect(msg).toMatch(text)
    return msg
  }
  throw new Error('expected DESTINATION_INVALID')
}

describe('parseDestination: HTTP shapes from the field', () => {
  it('cockpit export: OnPremise S/4 with principal propagation (no JWT needed to parse)', () => {
    const d = parseDestination({
      Name: 'S4HANA_PP',
      Type: 'HTTP',
      URL: 'http://s4hana.virtual:44300/',
      ProxyType: 'OnPremise',
      Authentication: 'PrincipalPropagation',
      CloudConnectorLocationId: 'FRANKFURT',
      'sap-client': '100',
      'URL.headers.X-Custom': 'a',
      'URL.queries.saml2': 'disabled',
      WebIDEEnabled: 'true',
      WebIDEUsage: 'odata_abap,dev_abap',
      Description: 'S/4HANA on premise',
    }) as HttpDestination
    expect(d).toMatchObject({
      name: 'S4HANA_PP',
      type: 'HTTP',
      proxyType: 'OnPremise',
      authentication: 'PrincipalPropagation',
      locationId: 'FRANKFURT',
      url: 'http://s4hana.virtual:44300',
      sapClient: '100',
      headers: { 'x-custom': 'a' },
      queries: { saml2: 'disabled' },
      source: 'object',
    })
    expect(d.properties.WebIDEUsage).toBe('odata_abap,dev_abap')
    expect(Object.isFrozen(d)).toBe(true)
    expect(Object.isFrozen(d.headers)).toBe(true)
    expect(Object.isFrozen(d.properties)).toBe(true)
  })

  it('basic authentication, with TrustAll in every boolean spelling', () => {
    for (const [v, expected] of [
      ['TRUE', true],
      ['true', true],
      ['True', true],
      [true, true],
      ['FALSE', false],
      ['false', false],
    ] as const) {
      const d = parseDestination({
        Name: 'B',
        Type: 'HTTP',
        URL: 'https://h.example.org',
        Authentication: 'BasicAuthentication',
        User: 'u',
        Password: 'p',
        TrustAll: v,
      }) as HttpDestination
      expect(d.tls.trustAll).toBe(expected)
      expect(d.credentials).toEqual({ user: 'u', password: 'p' })
    }
    invalid({ Name: 'B', URL: 'https://h', TrustAll: 'maybe' }, 'TrustAll', /TRUE or FALSE/)
  })

  it('implies BasicAuthentication from User+Password and defaults Type HTTP / ProxyType Internet', () => {
    const d = parseDestination({ Name: 'N', URL: 'https://n.example.org', User: 'u', Password: 'p' })
    expect(d).toMatchObject({
      type: 'HTTP',
      proxyType: 'Internet',
      authentication: 'BasicAuthentication',
      locationId: '',
    })
    expect(parseDestination({ Name: 'N', URL: 'https://n.example.org' }).authentication).toBe(
      'NoAuthentication',
    )
  })

  it('OAuth2ClientCredentials against SuccessFactors-style token service', () => {
    const d = parseDestination({
      Name: 'SFSF',
      Type: 'HTTP',
      URL: 'https://api.successfactors.eu/odata/v2',
      Authentication: 'OAuth2ClientCredentials',
      tokenServiceURL: 'https://api.successfactors.eu/oauth/token',
      tokenServiceURLType: 'Dedicated',
      clientId: 'client',
      clientSecret: 'secret',
      scope: 'read write',
      'tokenServiceURL.headers.x-tenant': 't',
    }) as HttpDestination
    expect(d.credentials).toEqual({
      tokenServiceUrl: 'https://api.successfactors.eu/oauth/token',
      tokenServiceUrlType: 'Dedicated',
      clientId: 'client',
      clientSecret: 'secret',
      scope: 'read write',
    })
  })

  it('OAuth2Password, OAuth2SAMLBearerAssertion, OAuth2JWTBearer, ClientCertificate, SAMLAssertion, OAuth2RefreshToken', () => {
    expect(
      parseDestination({
        Name: 'P',
        URL: 'https://x.org',
        Authentication: 'OAuth2Password',
        tokenServiceURL: 'https://x.org/t',
        clientId: 'c',
        clientSecret: 's',
        User: 'u',
        Password: 'p',
      }).authentication,
    ).toBe('OAuth2Password')
    expect(
      parseDestination({
        Name: 'SB',
        URL: 'https://my.s4hana.ondemand.com',
        Authentication: 'OAuth2SAMLBearerAssertion',
        tokenServiceURL: 'https://my.s4hana.ondemand.com/sap/bc/sec/oauth2/token',
        audience: 'https://my.s4hana.ondemand.com',
        clientKey: 'CK',
        authnContextClassRef: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PreviousSession',
        nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
        tokenServiceUser: 'TU',
        tokenServicePassword: 'TP',
      }),
    ).toMatchObject({
      authentication: 'OAuth2SAMLBearerAssertion',
      credentials: { tokenServiceUser: 'TU', tokenServicePassword: 'TP' },
    })
    expect(
      parseDestination({
        Name: 'J',
        URL: 'https://x.org',
        Authentication: 'OAuth2JWTBearer',
        tokenServiceURL: 'https://x.org/t',
        clientId: 'c',
        clientSecret: 's',
      }).authentication,
    ).toBe('OAuth2JWTBearer')
    const cert = parseDestination({
      Name: 'C',
      URL: 'https://x.org',
      Authentication: 'ClientCertificateAuthentication',
      KeyStoreLocation: 'client.p12',
      KeyStorePassword: 'kp',
      TrustStoreLocation: 'trust.jks',
      HostnameVerifier: 'browsercompatible',
    }) as HttpDestination
    expect(cert.tls).toEqual({
      trustAll: false,
      keyStoreLocation: 'client.p12',
      keyStorePassword: 'kp',
      trustStoreLocation: 'trust.jks',
      hostnameVerifier: 'BrowserCompatible',
    })
    expect(
      parseDestination({ Name: 'S', URL: 'https://x.org', Authentication: 'SAMLAssertion' }).authentication,
    ).toBe('SAMLAssertion')
    expect(
      parseDestination({
        Name: 'R',
        URL: 'https://x.org',
        Authentication: 'OAuth2RefreshToken',
        tokenServiceURL: 'https://x.org/t',
        clientId: 'c',
      }).authentication,
    ).toBe('OAuth2RefreshToken')
  })

  it('OAuth2ClientCredentials with a client certificate needs no clientSecret', () => {
    const d = parseDestination({
      Name: 'M',
      URL: 'https://x.org',
      Authentication: 'OAuth2ClientCredentials',
      tokenServiceURL: 'https://x.org/t',
      clientId: 'c',
      'tokenService.KeyStoreLocation': 'c.p12',
    })
    expect(d.authentication).toBe('OAuth2ClientCredentials')
  })

  it('accepts case-insensitive enum values and canonicalises them', () => {
    const d = parseDestination({
      Name: 'X',
      Type: 'http',
      URL: 'https://x.org',
      ProxyType: 'onpremise',
      Authentication: 'noauthentication',
    })
    expect(d).toMatchObject({ type: 'HTTP', proxyType: 'OnPremise', authentication: 'NoAuthentication' })
  })

  it('PrivateLink destinations', () => {
    expect(
      parseDestination({ Name: 'PL', URL: 'https://private.link', ProxyType: 'PrivateLink' }).proxyType,
    ).toBe('PrivateLink')
  })

  it('SDK-style keys (name/url/username/password) are accepted', () => {
    const d = parseDestination({
      name: 'SDK',
      url: 'https://sdk.example.org',
      username: 'u',
      password: 'p',
      sapClient: '200',
      headers: { 'X-A': 1 },
    }) as HttpDestination
    expect(d).toMatchObject({
      name: 'SDK',
      url: 'https://sdk.example.org',
      authentication: 'BasicAuthentication',
      sapClient: '200',
      headers: { 'x-a': '1' },
    })
  })
})

describe('parseDestination: validation names destination, property and expectation', () => {
  it.each([
    [{ Type: 'HTTP', URL: 'https://x' }, 'Name', /is required/],
    [
      { Name: 'A', Type: 'FTP', URL: 'https://x' },
      'Type',
      /unknown value; it must be one of HTTP, RFC, TCP, LDAP, MAIL/,
    ],
    [
      { Name: 'A', URL: 'https://x', ProxyType: 'Intranet' },
      'ProxyType',
      /one of Internet, OnPremise, PrivateLink/,
    ],
    [
      { Name: 'A', URL: 'https://x', Authentication: 'Kerberos' },
      'Authentication',
      /must be one of NoAuthentication/,
    ],
    [{ Name: 'A', Type: 'HTTP' }, 'URL', /is required for Type HTTP/],
    [{ Name: 'A', URL: 'not a url' }, 'URL', /absolute URL/],
    [{ Name: 'A', URL: 'ftp://x.org' }, 'URL', /scheme "ftp" but must use http or https/],
    [
      { Name: 'A', URL: 'https://x', Authentication: 'BasicAuthentication', User: 'u' },
      'Password',
      /required for Authentication BasicAuthentication/,
    ],
    [
      { Name: 'A', URL: 'https://x', Authentication: 'BasicAuthentication', Password: 'p' },
      'User',
      /required/,
    ],
    [
      {
        Name: 'A',
        URL: 'https://x',
        Authentication: 'OAuth2ClientCredentials',
        clientId: 'c',
        clientSecret: 's',
      },
      'tokenServiceURL',
      /required for Authentication OAuth2ClientCredentials/,
    ],
    [
      {
        Name: 'A',
        URL: 'https://x',
        Authentication: 'OAuth2ClientCredentials',
        tokenServiceURL: 'https://t',
        clientSecret: 's',
      },
      'clientId',
      /required/,
    ],
    [
      {
        Name: 'A',
        URL: 'https://x',
        Authentication: 'OAuth2ClientCredentials',
        tokenServiceURL: 'https://t',
        clientId: 'c',
      },
      'clientSecret',
      /required/,
    ],
    [
      {
        Name: 'A',
        URL: 'https://x',
        Authentication: 'OAuth2ClientCredentials',
        tokenServiceURL: '/relative',
        clientId: 'c',
        clientSecret: 's',
      },
      'tokenServiceURL',
      /absolute URL/,
    ],
    [
      {
        Name: 'A',
        URL: 'https://x',
        Authentication: 'OAuth2Password',
        tokenServiceURL: 'https://t',
        clientId: 'c',
        clientSecret: 's',
      },
      'User',
      /required/,
    ],
    [
      { Name: 'A', URL: 'https://x', Authentication: 'ClientCertificateAuthentication' },
      'KeyStoreLocation',
      /required/,
    ],
    [{ Name: 'A', URL: 'https://x', 'sap-client': '1000' }, 'sap-client', /three-digit/],
    [
      { Name: 'A', URL: 'https://x', tokenServiceURLType: 'Shared' },
      'tokenServiceURLType',
      /Dedicated, Common/,
    ],
    [{ Name: 'A', URL: 'https://x', nested: { a: 1 } }, 'nested', /must be a string/],
  ])('%j → %s', (props, property, text) => {
    invalid(props, property, text)
  })

  it('never echoes a URL value (it may contain credentials)', () => {
    const msg = invalid({ Name: 'A', URL: 'https://user:SENTINEL-PW@:bad' }, 'URL')
    expect(msg).not.toContain('SENTINEL')
  })

  it('rejects a non-object', () => {
    expect(() => parseDestination('x' as unknown as Record<string, unknown>)).toThrow(
      expect.objectContaining({ code: 'DESTINATION_INVALID' }),
    )
  })
})

describe('parseDestination: TCP', () => {
  it.each([
    ['db.virtual:5432', 'db.virtual', 5432],
    ['tcp://db.virtual:5432', 'db.virtual', 5432],
    ['TCP://10.0.0.1:1521/', '10.0.0.1', 1521],
    ['[::1]:3306', '::1', 3306],
  ])('Address %s', (address, host, port) => {
    const d = parseDestination({
      Name: 'T',
      Type: 'TCP',
      Address: address,
      ProxyType: 'OnPremise',
      CloudConnectorLocationId: 'L',
    }) as TcpDestination
    expect(d.address).toEqual({ host, port })
    expect(d.locationId).toBe('L')
  })

  it('reads tcp.* options', () => {
    const d = parseDestination({
      Name: 'T',
      Type: 'TCP',
      Address: 'h:1',
      'tcp.nodelay': 'TRUE',
      'tcp.keepalive': 'false',
      'tcp.timeout': '5000',
      'tcp.socket.sndbuf': '65536',
    }) as TcpDestination
    expect(d.tcp).toEqual({ nodelay: true, keepalive: false, timeoutMs: 5000, sndbuf: 65536 })
  })

  it.each([['h'], ['h:0'], ['h:70000'], ['h:port'], ['http://h:80']])('rejects Address %s', (address) => {
    invalid({ Name: 'T', Type: 'TCP', Address: address }, 'Address', /host:port/)
  })

  it('requires Address and a numeric timeout', () => {
    invalid({ Name: 'T', Type: 'TCP' }, 'Address', /required for Type TCP/)
    invalid({ Name: 'T', Type: 'TCP', Address: 'h:1', 'tcp.timeout': '5s' }, 'tcp.timeout', /whole number/)
  })
})

describe('parseDestination: RFC', () => {
  const direct = {
    Name: 'ERP_RFC',
    Type: 'RFC',
    'jco.client.ashost': 'erp.virtual',
    'jco.client.sysnr': '00',
    'jco.client.client': '100',
    'jco.client.user': 'RFC_USER',
    'jco.client.passwd': 'secret',
    'jco.client.lang': 'EN',
    'jco.client.cloud_connector_location_id': 'LOC_RFC',
    'jco.destination.pool_capacity': '5',
    'jco.destination.peak_limit': '10',
    'jco.destination.repository.user': 'REPO',
    'jco.client.trace': '0',
  }

  it('direct application server with pooling and extras', () => {
    const d = parseDestination(direct) as RfcDestination
    expect(d).toMatchObject({
      type: 'RFC',
      proxyType: 'OnPremise',
      locationId: 'LOC_RFC',
      authentication: 'BasicAuthentication',
    })
    expect(d.rfc).toMatchObject({
      ashost: 'erp.virtual',
      sysnr: '00',
      client: '100',
      user: 'RFC_USER',
      passwd: 'secret',
      lang: 'EN',
      authType: 'CONFIGURED_USER',
      pooling: { poolCapacity: 5, peakLimit: 10 },
      clientExtra: { trace: '0' },
      destinationExtra: { 'repository.user': 'REPO' },
    })
  })

  it('load balancing with principal propagation and explicit proxy type', () => {
    const d = parseDestination({
      Name: 'LB',
      Type: 'RFC',
      'jco.client.mshost': 'ms.virtual',
      'jco.client.r3name': 'ERP',
      'jco.client.client': '200',
      'jco.destination.auth_type': 'PrincipalPropagation',
      'jco.destination.proxy_type': 'Internet',
    }) as RfcDestination
    expect(d).toMatchObject({ authentication: 'PrincipalPropagation', proxyType: 'Internet' })
    expect(d.rfc).toMatchObject({ mshost: 'ms.virtual', r3name: 'ERP', group: 'PUBLIC' })
  })

  it('WebSocket RFC', () => {
    const d = parseDestination({
      Name: 'WS',
      Type: 'RFC',
      'jco.client.wshost': 'my.s4hana.cloud',
      'jco.client.wsport': '443',
      'jco.client.client': '100',
      'jco.client.user': 'U',
      'jco.client.passwd': 'p',
    }) as RfcDestination
    expect(d.rfc).toMatchObject({ wshost: 'my.s4hana.cloud', wsport: '443' })
  })

  it.each([
    [{ 'jco.client.ashost': undefined }, 'jco.client.ashost', /or jco.client.mshost/],
    [{ 'jco.client.sysnr': '0' }, 'jco.client.sysnr', /two-digit/],
    [{ 'jco.client.client': '1' }, 'jco.client.client', /three-digit/],
    [{ 'jco.client.passwd': undefined }, 'jco.client.passwd', /CONFIGURED_USER/],
    [{ 'jco.client.user': 'MUCH_TOO_LONG_USER' }, 'jco.client.user', /12 characters/],
    [
      { 'jco.destination.auth_type': 'SSO' },
      'jco.destination.auth_type',
      /CONFIGURED_USER, PrincipalPropagation/,
    ],
    [{ 'jco.destination.pool_capacity': 'many' }, 'jco.destination.pool_capacity', /whole number/],
  ])('rejects %j', (patch, property, text) => {
    invalid({ ...direct, ...patch }, property, text)
  })

  it('mshost needs r3name or msserv', () => {
    invalid(
      { Name: 'LB', Type: 'RFC', 'jco.client.mshost': 'ms', 'jco.client.client': '100' },
      'jco.client.r3name',
    )
  })
})

describe('parseDestination: LDAP and MAIL', () => {
  it('LDAP with basic authentication on premise', () => {
    const d = parseDestination({
      Name: 'AD',
      Type: 'LDAP',
      'ldap.url': 'ldap://ad.virtual:389',
      'ldap.proxyType': 'OnPremise',
      'ldap.authentication': 'BasicAuthentication',
      'ldap.user': 'cn=reader',
      'ldap.password': 'p',
      CloudConnectorLocationId: 'L',
    }) as LdapDestination
    expect(d).toMatchObject({
      type: 'LDAP',
      url: 'ldap://ad.virtual:389',
      proxyType: 'OnPremise',
      authentication: 'BasicAuthentication',
      user: 'cn=reader',
      password: 'p',
      locationId: 'L',
    })
    invalid({ Name: 'AD', Type: 'LDAP', 'ldap.url': 'http://x' }, 'ldap.url', /ldap or ldaps/)
    invalid(
      { Name: 'AD', Type: 'LDAP', 'ldap.url': 'ldaps://x:636', 'ldap.authentication': 'BasicAuthentication' },
      'ldap.user',
    )
    invalid(
      { Name: 'AD', Type: 'LDAP', 'ldap.url': 'ldaps://x:636', 'ldap.authentication': 'OAuth2JWTBearer' },
      'ldap.authentication',
      /NoAuthentication, BasicAuthentication/,
    )
  })

  it('MAIL (SMTP, and IMAP via mail.store.protocol)', () => {
    const smtp = parseDestination({
      Name: 'SMTP',
      Type: 'MAIL',
      ProxyType: 'OnPremise',
      Authentication: 'BasicAuthentication',
      'mail.user': 'noreply@example.org',
      'mail.password': 'p',
      'mail.smtp.host': 'smtp.virtual',
      'mail.smtp.port': '587',
      'mail.smtp.from': 'noreply@example.org',
      'mail.transport.protocol': 'smtp',
    }) as MailDestination
    expect(smtp).toMatchObject({
      protocol: 'smtp',
      host: 'smtp.virtual',
      port: 587,
      from: 'noreply@example.org',
      user: 'noreply@example.org',
    })
    const imap = parseDestination({
      Name: 'IMAP',
      Type: 'MAIL',
      'mail.store.protocol': 'imaps',
      'mail.imaps.host': 'imap.virtual',
      'mail.imaps.port': '993',
    }) as MailDestination
    expect(imap).toMatchObject({ protocol: 'imaps', host: 'imap.virtual', port: 993 })
    invalid({ Name: 'M', Type: 'MAIL' }, 'mail.smtp.host', /required for Type MAIL/)
    invalid({ Name: 'M', Type: 'MAIL', 'mail.smtp.host': 'h', 'mail.smtp.port': '99999' }, 'mail.smtp.port')
    invalid(
      { Name: 'M', Type: 'MAIL', 'mail.smtp.host': 'h', Authentication: 'BasicAuthentication' },
      'mail.user',
    )
  })
})
