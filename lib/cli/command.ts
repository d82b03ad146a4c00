/** The shape of a CLI command and a small, strict argument parser (no dependency needed). */

export interface OptionSpec {
  /** `string` options take a value (`--port 8080` or `--port=8080`); `boolean` ones do not. */
  readonly type: 'string' | 'boolean'
  /** Repeatable string options collect every value. */
  readonly multiple?: boolean
  readonly short?: string
}

export interface ParsedArgs {
  readonly flags: Readonly<Record<string, string | boolean | string[] | undefined>>
  readonly positionals: readonly string[]
}

export interface Command {
  readonly help: string
  readonly options: Readonly<Record<string, OptionSpec>>
  run(args: ParsedArgs): Promise<number>
}

/** Parses argv against the spec; unknown options are an error (typos must not be ignored silently). */
export function parseArgs(argv: readonly string[], spec: Readonly<Record<string, OptionSpec>>): ParsedArgs {
  const flags: Record<string, string | boolean | string[] | undefined> = {}
  const positionals: string[] = []
  const all: Record<string, OptionSpec> = { help: { type: 'boolean', short: 'h' }, ...spec }
  const byShort = new Map(Object.entries(all).flatMap(([k, v]) => (v.short ? [[v.short, k] as const] : [])))
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    let key: string | undefined
    let inline: string | undefined
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=')
      key = eq === -1 ? arg.slice(2) : arg.slice(2, eq)
      inline = eq === -1 ? undefined : arg.slice(eq + 1)
    } else if (arg.length === 2 && arg[0] === '-' && arg !== '-') {
      key = byShort.get(arg[1] as string)
      if (!key) throw new UsageError(`Unknown option "${arg}".`)
    } else {
      positionals.push(arg)
      continue
    }
    const opt = all[key]
    if (!opt) throw new UsageError(`Unknown option "--${key}".`)
    if (opt.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`Option "--${key}" takes no value.`)
      flags[key] = true
      continue
    }
    const value = inline ?? argv[++i]
    if (value === undefined) throw new UsageError(`Option "--${key}" needs a value.`)
    if (opt.multiple) {
      const prev = flags[key]
      flags[key] = Array.isArray(prev) ? [...prev, value] : [value]
    } else flags[key] = value
  }
  return { flags, positionals }
}

/** Bad command-line arguments: printed with the command's help, exit code 2. */
export class UsageError extends Error {}
