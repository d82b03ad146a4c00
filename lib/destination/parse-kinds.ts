/** Parsers for the non-HTTP destination types: TCP, RFC (jco.*), LDAP and MAIL. */
import type { CommonFields } from './parse'
import {
  bool,
  compact,
  int,
  invalid,
  oneOf,
  opt,
  type ParseScope,
  prefixed,
  req,
  reqSecret,
  secret,
  url,
} from './parse-util'
import type { LdapDestination, MailDestination, RfcDestination, TcpDestination } from './types'

/** `host:port`, `tcp://host:port` or `[v6]:port`. */
export function parseAddress(scope: ParseScope, key: string): { host: string; port: number } {
  const raw = req(scope, key, 'for Type TCP (virtual host:port, e.g. "db.virtual:5432")')
  const text = raw.replace(/^tcp:\/\//i, '').replace(/\/+$/, '')
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:/\s[\]]+)):(\d{1,5})$/.exec(text)
  const port = m ? Number(m[3]) : Number.NaN
  if (!m || port < 1 || port > 65535) {
    throw invalid(scope, key, 'must be host:port (port 1-65535), optionally with tcp://')
  }
  return { host: (m[1] ?? m[2]) as string, port }
}

/** TCP options may be written `tcp.<x>` or `tcp.socket.<x>`. */
function tcpOpt<T>(
  scope: ParseScope,
  name: string,
  read: (s: ParseScope, k: string) => T | undefined,
): T | undefined {
  return read(scope, `tcp.${name}`) ?? read(scope, `tcp.socket.${name}`)
}

export function parseTcp(scope: ParseScope, common: CommonFields): TcpDestination {
  const max = 2 ** 31 - 1
  const range = (s: ParseScope, k: string) => int(s, k, 0, max)
  return compact({
    ...common,
    type: 'TCP' as const,
    address: parseAddress(scope, 'Address'),
    tcp: compact({
      nodelay: tcpOpt(scope, 'nodelay', bool),
      keepalive: tcpOpt(scope, 'keepalive', bool),
      timeoutMs: tcpOpt(scope, 'timeout', range),
      lingerSeconds: tcpOpt(scope, 'linger', range),
      sndbuf: tcpOpt(scope, 'sndbuf', range),
      rcvbuf: tcpOpt(scope, 'rcvbuf', range),
      reuseaddr: tcpOpt(scope, 'reuseaddr', bool),
    }),
  })
}

const RFC_CLIENT_KEYS = new Set([
  'ashost',
  'sysnr',
  'mshost',
  'msserv',
  'r3name',
  'group',
  'wshost',
  'wsport',
  'saprouter',
  'client',
  'user',
  'alias_user',
  'passwd',
  'lang',
  'cloud_connector_location_id',
])
const RFC_DEST_KEYS = new Set([
  'auth_type',
  'proxy_type',
  'pool_capacity',
  'peak_limit',
  'max_get_client_time',
  'expiration_time',
  'expiration_check_period',
])

export function parseRfc(scope: ParseScope, common: CommonFields, fromService: boolean): RfcDestination {
  const c = (k: string) => opt(scope, `jco.client.${k}`)
  const hasDirect = c('ashost') !== undefined
  const hasBalanced = c('mshost') !== undefined
  const hasWs = c('wshost') !== undefined
  if (!hasDirect && !hasBalanced && !hasWs) {
    throw invalid(
      scope,
      'jco.client.ashost',
      'is required for Type RFC (or jco.client.mshost with jco.client.r3name/msserv, or jco.client.wshost with jco.client.wsport)',
    )
  }
  if (hasDirect) {
    const sysnr = req(
      scope,
      'jco.client.sysnr',
      'with jco.client.ashost (two-digit system number, e.g. "00")',
    )
    if (!/^\d{2}$/.test(sysnr))
      throw invalid(scope, 'jco.client.sysnr', 'must be a two-digit system number, e.g. "00"')
  } else if (hasBalanced && !c('r3name') && !c('msserv')) {
    throw invalid(
      scope,
      'jco.client.r3name',
      'is required with jco.client.mshost (the system id, or set jco.client.msserv)',
    )
  } else if (!hasBalanced && hasWs) {
    int(scope, 'jco.client.wsport', 1, 65535) ?? req(scope, 'jco.client.wsport', 'with jco.client.wshost')
  }
  const client = req(scope, 'jco.client.client', 'for Type RFC (three-digit SAP client)')
  if (!/^\d{3}$/.test(client))
    throw invalid(scope, 'jco.client.client', 'must be a three-digit SAP client, e.g. "100"')
  const certLogon = bool(scope, 'jco.client.tls_client_certificate_logon') ?? false
  if (!fromService && common.authentication === 'BasicAuthentication' && !certLogon) {
    const user = req(scope, 'jco.client.user', 'for jco.destination.auth_type CONFIGURED_USER')
    if (user.length > 12)
      throw invalid(scope, 'jco.client.user', 'must be at most 12 characters (ABAP user name)')
    reqSecret(scope, 'jco.client.passwd', 'for jco.destination.auth_type CONFIGURED_USER')
  }
  const poolInt = (k: string) => int(scope, `jco.destination.${k}`, 0, 2 ** 31 - 1)
  const clientExtra = prefixed(scope.props, 'jco.client.', false)
  const destinationExtra = prefixed(scope.props, 'jco.destination.', false)
  for (const k of RFC_CLIENT_KEYS) delete clientExtra[k]
  for (const k of RFC_DEST_KEYS) delete destinationExtra[k]
  return compact({
    ...common,
    type: 'RFC' as const,
    rfc: compact({
      ashost: c('ashost'),
      sysnr: c('sysnr'),
      mshost: c('mshost'),
      msserv: c('msserv'),
      r3name: c('r3name'),
      group: c('group') ?? (hasBalanced ? 'PUBLIC' : undefined),
      wshost: c('wshost'),
      wsport: c('wsport'),
      saprouter: c('saprouter'),
      client,
      user: c('user'),
      aliasUser: c('alias_user'),
      passwd: secret(scope, 'jco.client.passwd'),
      lang: c('lang'),
      authType: opt(scope, 'jco.destination.auth_type') ?? 'CONFIGURED_USER',
      pooling: compact({
        poolCapacity: poolInt('pool_capacity'),
        peakLimit: poolInt('peak_limit'),
        maxGetClientTime: poolInt('max_get_client_time'),
        expirationTime: poolInt('expiration_time'),
        expirationCheckPeriod: poolInt('expiration_check_period'),
      }),
      clientExtra,
      destinationExtra,
    }),
  })
}

/**
 * `<prefix>.user` / `<prefix>.password` of an LDAP or MAIL destination; both are required for
 * BasicAuthentication in a configuration we parse ourselves (the service has checked its own).
 */
function basicCredentials(
  scope: ParseScope,
  common: CommonFields,
  fromService: boolean,
  prefix: 'ldap' | 'mail',
): { user: string | undefined; password: string | undefined } {
  if (!fromService && common.authentication === 'BasicAuthentication') {
    req(scope, `${prefix}.user`, 'for BasicAuthentication')
    reqSecret(scope, `${prefix}.password`, 'for BasicAuthentication')
  }
  return { user: opt(scope, `${prefix}.user`), password: secret(scope, `${prefix}.password`) }
}

export function parseLdap(scope: ParseScope, common: CommonFields, fromService: boolean): LdapDestination {
  const ldapUrl = url(scope, 'ldap.url', ['ldap', 'ldaps'], 'for Type LDAP (e.g. ldap://ldap.virtual:389)')
  const authKey = opt(scope, 'ldap.authentication') ? 'ldap.authentication' : 'Authentication'
  oneOf(scope, authKey, ['NoAuthentication', 'BasicAuthentication'] as const, 'NoAuthentication')
  return compact({
    ...common,
    type: 'LDAP' as const,
    url: ldapUrl,
    ...basicCredentials(scope, common, fromService, 'ldap'),
  })
}

export function parseMail(scope: ParseScope, common: CommonFields, fromService: boolean): MailDestination {
  const protocol = oneOf(
    scope,
    'mail.transport.protocol',
    ['smtp', 'smtps', 'imap', 'imaps', 'pop3', 'pop3s'] as const,
    'smtp',
  )
  // JavaMail names the store protocol in mail.store.protocol; host/port keys carry the protocol name.
  const store = opt(scope, 'mail.store.protocol')
  const hostKey =
    opt(scope, `mail.${protocol}.host`) || !store ? `mail.${protocol}.host` : `mail.${store}.host`
  const proto = hostKey.split('.')[1] as string
  const host = req(scope, hostKey, 'for Type MAIL')
  const port = int(scope, `mail.${proto}.port`, 1, 65535)
  return compact({
    ...common,
    type: 'MAIL' as const,
    protocol: proto,
    host,
    port,
    ...basicCredentials(scope, common, fromService, 'mail'),
    from: opt(scope, `mail.${proto}.from`) ?? opt(scope, 'mail.smtp.from'),
  })
}
