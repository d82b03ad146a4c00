/**
 * Who the user of a verified JWT is, and how a certificate subject is built for them.
 */
import { ConnectivityError } from '../../errors'

type Claims = Readonly<Record<string, unknown>>

const NAME_CLAIMS = ['user_name', 'email', 'mail', 'user_uuid', 'sub'] as const

function claimString(claims: Claims, key: string): string | undefined {
  const v = claims[key]
  return typeof v === 'string' && v !== '' ? v : undefined
}

/**
 * The user a token stands for: `user_name`, else `email`, else `sub` (what the header carries).
 * @example userOfClaims({ user_name: 'alice', sub: '123' }) // 'alice'
 */
export function userOfClaims(claims: Claims): string | undefined {
  return claimString(claims, 'user_name') ?? claimString(claims, 'email') ?? claimString(claims, 'sub')
}

/** One relative distinguished name of a subject, e.g. `{ name: 'CN', value: 'alice' }`. */
export interface SubjectAttribute {
  readonly name: string
  readonly value: string
}

const KNOWN_ATTRIBUTES = new Set(['CN', 'O', 'OU', 'C', 'L', 'ST', 'E', 'EMAILADDRESS'])

/**
 * Splits a subject pattern such as `CN=${user_name},OU=Sales,O=ACME` into attributes. Values are
 * substituted later, after splitting, so a user name containing `,` or `=` cannot inject RDNs.
 * @throws ConnectivityError `CONFIG_INVALID` for an empty or malformed pattern.
 */
export function parseSubjectPattern(pattern: string): SubjectAttribute[] {
  if (typeof pattern !== 'string' || pattern.trim() === '') {
    throw new ConnectivityError(
      'CONFIG_INVALID',
      'principalPropagation.subjectPattern must be a non-empty string',
    )
  }
  const parts = pattern.split(',').map((p) => p.trim())
  return parts.map((part) => {
    const eq = part.indexOf('=')
    const name = part.slice(0, eq).trim().toUpperCase()
    if (eq <= 0 || !KNOWN_ATTRIBUTES.has(name)) {
      throw new ConnectivityError(
        'CONFIG_INVALID',
        `subjectPattern part "${part}" must be ATTR=value with ATTR one of ${[...KNOWN_ATTRIBUTES].join(', ')}`,
      )
    }
    return { name: name === 'EMAILADDRESS' ? 'E' : name, value: part.slice(eq + 1).trim() }
  })
}

/**
 * Fills `${claim}` placeholders of pattern attributes from verified claims. `${name}` is the first
 * of `user_name`, `email`, `mail`, `user_uuid`, `sub` (the Cloud Connector's rule).
 * @throws ConnectivityError `ACCESS_DENIED` when a referenced claim is missing from the token.
 */
export function renderSubject(attributes: readonly SubjectAttribute[], claims: Claims): SubjectAttribute[] {
  return attributes.map(({ name, value }) => ({
    name,
    value: value.replace(/\$\{([A-Za-z0-9_.-]+)\}/g, (_m, key: string) => {
      const v =
        key === 'name'
          ? NAME_CLAIMS.map((k) => claimString(claims, k)).find((x) => x !== undefined)
          : claimString(claims, key)
      if (v === undefined) {
        throw new ConnectivityError(
          'ACCESS_DENIED',
          `The user token has no "${key}" claim needed for the certificate subject`,
        )
      }
      return v
    }),
  }))
}
