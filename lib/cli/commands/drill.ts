/**
 * `cap-connectivity drill GROUP [--file destinations.json] [--json]` — a DR drill: takes the
 * serving member of a group out inside this process, reports time to fail over, which member
 * served each request, and time to fail back after release. Exit 1 when no member took over.
 */
import { runDrill } from '../../failover/find-group'
import { closeFailover } from '../../failover/registry'
import { type Command, UsageError } from '../command'

const help = `Usage: cap-connectivity drill GROUP [--file destinations.json] [--mode mark-down|probe-failures] [--json]

Runs a DR drill on a destination group: the member now serving is marked down inside this
process (a simulated outage; nothing changes on the remote system), the group's probe request is
sent through the group's routing until another member serves it, and after the member is released
until it serves again.

Options:
  --file PATH   destinations file with the group (default: the configured file, ./destinations.json)
  --mode MODE   mark-down (default): the member is marked down at once, the times show the switch
                inside the client; probe-failures: its probes fail from now on, so the time to fail
                over includes detection (at most interval x toleratedFailures + timeout)
  --json        print one JSON object { ok, timeToFailoverMs, timeToFailbackMs, servedBy, ... }

Exit code 0 when another healthy member took over (and the member came back where fail-back
applies), 1 otherwise.
`

export const command: Command = {
  help,
  options: { file: { type: 'string', short: 'f' }, mode: { type: 'string' }, json: { type: 'boolean' } },
  async run(args) {
    const [group, ...extra] = args.positionals
    if (!group) throw new UsageError('drill: give the name of a destination group.')
    if (extra.length) throw new UsageError(`drill: unexpected argument "${extra[0]}".`)
    const file = args.flags.file
    const mode = args.flags.mode ?? 'mark-down'
    if (mode !== 'mark-down' && mode !== 'probe-failures') {
      throw new UsageError(`drill: --mode must be "mark-down" or "probe-failures", not "${String(mode)}".`)
    }
    try {
      const result = await runDrill(group, { mode, ...(typeof file === 'string' ? { file } : {}) })
      if (args.flags.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`)
      } else {
        const lines = [
          `Drill of group "${result.group}" (${result.routing} routing, ${result.mode})`,
          ...result.servedBy.map(
            (r) =>
              `  ${String(r.atMs).padStart(6)} ms  ${r.phase.padEnd(8)}  ${r.member ?? '-'}  ${r.status ?? ''}${r.error ? `  ${r.error}` : ''}`,
          ),
          `time to fail over: ${result.timeToFailoverMs === null ? 'none' : `${result.timeToFailoverMs} ms`}`,
          `time to fail back: ${result.timeToFailbackMs === null ? 'none' : `${result.timeToFailbackMs} ms`}`,
          `probe detection bound for a real outage: ${result.detectionBoundMs} ms`,
          `${result.ok ? 'OK' : 'FAILED'}: ${result.message}`,
        ]
        process.stdout.write(`${lines.join('\n')}\n`)
      }
      return result.ok ? 0 : 1
    } finally {
      closeFailover()
    }
  },
}
