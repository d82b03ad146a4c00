/**
 * `cap-connectivity connect NAME [--port 10000]`: opens a local port for a TCP destination (the
 * `cf ssh -L` experience for database tools) and keeps it open until Ctrl-C.
 */
import { configureDestinations, resolveDestination } from '../../destination/resolve'
import { isConnectivityError } from '../../errors'
import { openLocalPort } from '../../tcp/local-port'
import { getRoute } from '../../transport/route'
import { type Command, UsageError } from '../command'

const help = `Usage: cap-connectivity connect NAME [--port 10000] [options]

Opens a local port that carries every connection to the TCP destination NAME by its route:
direct (Internet, PrivateLink), or for OnPremise through the connectivity binding's SOCKS5 proxy
or the configured tunnel. Point any tool at the printed host:port; Ctrl-C closes it.

Options:
  --port N       local port (default 0: a free port, printed on start)
  --host H       loopback address to listen on (default 127.0.0.1; only loopback is allowed)
  --file F       destinations file (default: CAP_CONNECTIVITY_DESTINATIONS or ./destinations.json)
  --tenant T     tenant zone id for the destination lookup
  -h, --help     show this help
`

function port(value: string | undefined): number {
  if (value === undefined) return 0
  const n = Number(value)
  if (!/^\d{1,5}$/.test(value) || n > 65535)
    throw new UsageError(`connect: --port must be 0-65535, got "${value}".`)
  return n
}

export const command: Command = {
  help,
  options: {
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    file: { type: 'string', short: 'f' },
    tenant: { type: 'string' },
  },
  async run(args) {
    const [name, ...extra] = args.positionals
    if (!name) throw new UsageError('connect: give the name of a TCP destination.')
    if (extra.length) throw new UsageError(`connect: unexpected argument "${extra[0]}".`)
    const str = (k: string) => (typeof args.flags[k] === 'string' ? (args.flags[k] as string) : undefined)
    const host = str('host') ?? '127.0.0.1'
    const tenant = str('tenant')
    const file = str('file')
    if (file) configureDestinations({ file })
    const dest = await resolveDestination(name, tenant ? { tenant } : {})
    let local: Awaited<ReturnType<typeof openLocalPort>>
    try {
      local = await openLocalPort(dest, {
        port: port(str('port')),
        host,
        ...(tenant ? { tenant } : {}),
        onError: (err) =>
          process.stderr.write(
            `connection not carried: ${isConnectivityError(err) ? `${err.code}: ` : ''}${err.message}\n`,
          ),
      })
    } catch (err) {
      if (err instanceof RangeError) throw new UsageError(`connect: ${err.message}`)
      throw err
    }
    const route = await getRoute(dest, tenant ? { tenant } : {})
    const target = dest.type === 'TCP' ? `${dest.address.host}:${dest.address.port}` : name
    const shown = local.host.includes(':') ? `[${local.host}]` : local.host
    process.stdout.write(
      `Listening on ${shown}:${local.port} → destination "${dest.name}" (${target}, route ${route.kind}). Ctrl-C to stop.\n`,
    )
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop)
        process.off('SIGTERM', stop)
        resolve()
      }
      process.on('SIGINT', stop)
      process.on('SIGTERM', stop)
    })
    await local.close()
    process.stdout.write('Closed.\n')
    return 0
  },
}
