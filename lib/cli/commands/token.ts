/** `cap-connectivity token --secret S --subject NAME …`: prints an HS256 development JWT for the tunnel server. */
import { createDevToken } from '../../tunnel/auth'
import { type Command, UsageError } from '../command'

const help = `Usage: cap-connectivity token --secret S --subject NAME [options]

Prints a development JWT (HS256) that a tunnel server started with the same --secret accepts.
For production use tokens from XSUAA/IAS and start the server with --jwks-url.

Options:
  --secret S        HS256 secret (or CAP_CONNECTIVITY_TUNNEL_SECRET)
  --subject NAME    the token's sub (who the agent or developer is)
  --account A       account claim: agents and clients are grouped by it (default: the subject)
  --ttl SECONDS     lifetime (default 3600)
  --issuer ISS      iss claim
  --audience AUD    aud claim
  --claim k=v       extra claim (repeatable; values are strings, or JSON when they parse as JSON)
  -h, --help        show this help
`

export const command: Command = {
  help,
  options: {
    secret: { type: 'string' },
    subject: { type: 'string' },
    account: { type: 'string' },
    ttl: { type: 'string' },
    issuer: { type: 'string' },
    audience: { type: 'string' },
    claim: { type: 'string', multiple: true },
  },
  async run(args) {
    if (args.positionals.length) throw new UsageError(`token: unexpected argument "${args.positionals[0]}".`)
    const str = (k: string): string | undefined =>
      typeof args.flags[k] === 'string' ? (args.flags[k] as string) : undefined
    const secret = str('secret') ?? process.env.CAP_CONNECTIVITY_TUNNEL_SECRET
    const subject = str('subject')
    if (!secret) throw new UsageError('token: --secret is required (or CAP_CONNECTIVITY_TUNNEL_SECRET).')
    if (!subject) throw new UsageError('token: --subject is required.')
    const ttlText = str('ttl') ?? '3600'
    const ttl = Number(ttlText)
    if (!/^\d+$/.test(ttlText) || ttl <= 0)
      throw new UsageError(`token: --ttl must be a positive number of seconds, got "${ttlText}".`)
    const claims: Record<string, unknown> = {}
    for (const kv of (args.flags.claim as string[] | undefined) ?? []) {
      const eq = kv.indexOf('=')
      if (eq <= 0) throw new UsageError(`token: --claim must be key=value, got "${kv}".`)
      const value = kv.slice(eq + 1)
      let parsed: unknown = value
      try {
        parsed = JSON.parse(value)
      } catch {
        parsed = value
      }
      claims[kv.slice(0, eq)] = parsed
    }
    const account = str('account')
    const issuer = str('issuer')
    const audience = str('audience')
    const token = createDevToken({
      secret,
      subject,
      ttlSeconds: ttl,
      claims,
      ...(account ? { account } : {}),
      ...(issuer ? { issuer } : {}),
      ...(audience ? { audience } : {}),
    })
    process.stdout.write(`${token}\n`)
    return 0
  },
}
