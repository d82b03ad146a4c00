/**
 * `cap-connectivity destinations list|check`: shows destinations the way the library resolves
 * them, with every secret masked, so a configuration can be checked before an app runs.
 */
import { resolve } from 'node:path'
import { findServiceBinding } from '../../auth/bindings'
import { maskedProperties, targetOf } from '../../destination/mask'
import { getDestinationWith } from '../../destination/resolve'
import { envDestinations } from '../../destination/sources/env'
import { configuredFilePath, loadDocumentSync } from '../../destination/sources/file'
import { registryList } from '../../destination/sources/registry'
import type { Destination } from '../../destination/types'
import { type Command, type ParsedArgs, UsageError } from '../command'

const help = `Usage: cap-connectivity destinations <list|check NAME> [options]

  list               every destination of the registry, the destinations file and the
                     "destinations" env var (name, type, proxy type, authentication, target, source)
  check NAME         resolve NAME like the library does (registry → file → env var →
                     Destination service) and show its details; exit code 1 when it fails

Options:
  --file F           use destinations file F instead of CAP_CONNECTIVITY_DESTINATIONS /
                     ./destinations.json
  --tenant T         (check) tenant zone id for the registry and the Destination service
  -h, --help         show this help

Secrets (passwords, client secrets, tokens, keys) are always masked.
`

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? []
  return `${rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n')}\n`
}

function sourceLabel(d: Destination): string {
  return d.source === 'file' ? `file ${d.origin?.split(', entry')[0] ?? ''}` : d.source
}

function list(file: string | undefined): number {
  const target = file ? { path: resolve(file), explicit: true } : configuredFilePath()
  const all = new Map<string, Destination>()
  // later sources only fill names the earlier ones do not have, as in resolution
  for (const d of registryList(undefined)) all.set(d.name, d)
  for (const d of loadDocumentSync(target.path, target.explicit)?.doc.destinations ?? [])
    if (!all.has(d.name)) all.set(d.name, d)
  for (const d of envDestinations().values()) if (!all.has(d.name)) all.set(d.name, d)
  const rows = [['NAME', 'TYPE', 'PROXY', 'AUTHENTICATION', 'URL/ADDRESS', 'SOURCE']]
  for (const d of all.values())
    rows.push([d.name, d.type, d.proxyType, d.authentication, targetOf(d), sourceLabel(d)])
  if (all.size === 0)
    process.stdout.write(`No destinations (file ${target.path} absent or empty, env "destinations" unset).\n`)
  else process.stdout.write(table(rows))
  const binding = findServiceBinding('destination')
  if (binding) {
    process.stdout.write(
      `\nDestination service binding "${binding.name}" found: its destinations are looked up by name (destinations check NAME).\n`,
    )
  }
  return 0
}

async function check(name: string, file: string | undefined, tenant: string | undefined): Promise<number> {
  const d = await getDestinationWith(name, tenant ? { tenant } : {}, file ? { file: resolve(file) } : {})
  const lines: [string, string][] = [
    ['name', d.name],
    ['type', d.type],
    ['proxy type', d.proxyType],
    ['authentication', d.authentication],
    [d.type === 'HTTP' || d.type === 'LDAP' ? 'url' : 'address', targetOf(d)],
    ['location id', d.locationId === '' ? '(default)' : d.locationId],
    ['source', d.origin ? `${d.source} (${d.origin})` : d.source],
  ]
  if (d.authTokens?.length)
    lines.push(['auth tokens', d.authTokens.map((t) => `${t.type || 'token'} ********`).join(', ')])
  if (d.certificates?.length) lines.push(['certificates', d.certificates.map((c) => c.name).join(', ')])
  const width = Math.max(...lines.map(([k]) => k.length))
  let out = `${lines.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n\nproperties:\n`
  for (const [k, v] of Object.entries(maskedProperties(d.properties))) out += `  ${k} = ${v}\n`
  process.stdout.write(out)
  return 0
}

export const command: Command = {
  help,
  options: { file: { type: 'string' }, tenant: { type: 'string' } },
  async run(args: ParsedArgs): Promise<number> {
    const [sub, name, ...extra] = args.positionals
    const file = args.flags.file as string | undefined
    if (sub === 'list') {
      if (name !== undefined) throw new UsageError(`"destinations list" takes no arguments (got "${name}").`)
      return list(file)
    }
    if (sub === 'check') {
      if (!name) throw new UsageError('"destinations check" needs a destination NAME.')
      if (extra.length > 0) throw new UsageError('"destinations check" takes one NAME.')
      return check(name, file, args.flags.tenant as string | undefined)
    }
    throw new UsageError(sub ? `Unknown subcommand "${sub}".` : 'Missing subcommand: list or check.')
  },
}
