/**
 * `cap-connectivity` command line. Each command lives in `commands/<name>.ts` and registers itself
 * in the table below; `main` returns the process exit code.
 */
import { isConnectivityError } from '../errors'
import type { Command } from './command'
import { parseArgs, UsageError } from './command'

// Commands are loaded lazily so `cap-connectivity --help` stays fast and optional parts
// (tunnel, CAP) are only loaded when used.
const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {}

/** Registers a command (called from this file only, to keep the table in one place). */
function register(name: string, summary: string, load: () => Promise<Command>): void {
  commands[name] = { summary, load }
}

// --- command table (one line per command) ---
void register
register(
  'destinations',
  'list destinations or check one (secrets masked)',
  async () => (await import('./commands/destinations.js')).command,
)
register(
  'connect',
  'open a local port for a TCP destination (until Ctrl-C)',
  async () => (await import('./commands/connect.js')).command,
)
register(
  'drill',
  'DR drill: take a group member out, measure failover and fail-back',
  async () => (await import('./commands/drill.js')).command,
)

register(
  'tunnel',
  'tunnel server | agent | forward: the multiplexed WebSocket tunnel',
  async () => (await import('./commands/tunnel.js')).command,
)
register(
  'token',
  'print an HS256 development JWT for the tunnel server',
  async () => (await import('./commands/token.js')).command,
)

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length), 8)
  const lines = Object.entries(commands).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`)
  return `Usage: cap-connectivity <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'cap-connectivity <command> --help' for the options of a command.\n`
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage())
    return name ? 0 : 1
  }
  const entry = commands[name]
  if (!entry) {
    process.stderr.write(`Unknown command "${name}".\n\n${usage()}`)
    return 2
  }
  const command = await entry.load()
  try {
    const args = parseArgs(rest, command.options)
    if (args.flags.help) {
      process.stdout.write(command.help)
      return 0
    }
    return await command.run(args)
  } catch (err) {
    if (isConnectivityError(err)) {
      process.stderr.write(`error ${err.code}: ${err.message}\n`)
      return 1
    }
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${command.help}`)
      return 2
    }
    throw err
  }
}
