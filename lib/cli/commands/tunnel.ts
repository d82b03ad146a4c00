/**
 * `cap-connectivity tunnel server|agent|forward …`: the three tunnel roles from the command line.
 * Each runs until SIGINT/SIGTERM; auth failures exit non-zero instead of retrying.
 */
import { readFileSync } from 'node:fs'
import { isConnectivityError } from '../../errors'
import { type Command, type ParsedArgs, UsageError } from '../command'
import { tuneTunnelGc } from '../gc'

const help = `Usage: cap-connectivity tunnel <server|agent|forward> [options]

  tunnel server  --port 8080 [--host 0.0.0.0] (--secret S | --jwks-url URL | --insecure-no-auth) [--allow host:port …]
  tunnel agent   --server wss://host[:port][/path] --token T --config agent.json
                 (agent.json may add "trust", per-mapping "principalPropagation", "serviceChannels")
  tunnel forward --server URL --token T [--location L] [localHost:]localPort:host:port …

Server options:
  --port N            listen port (default: $PORT, else 8080)
  --host H            bind address (default 127.0.0.1; 0.0.0.0 on a platform)
  --path P            WebSocket upgrade path (default /)
  --secret S          HS256 development secret (or CAP_CONNECTIVITY_TUNNEL_SECRET)
  --jwks-url URL      verify tokens against this JWKS (XSUAA/IAS)
  --issuer ISS        expected iss;   --audience AUD  expected aud;   --scope S  required scope
  --insecure-no-auth  accept anyone (development only; prints a warning)
  --allow host:port   target the server may reach itself for forward clients (repeatable, port ranges lo-hi)
  --tls-cert FILE     serve wss:// with this certificate (PEM); with --tls-key FILE
  --proxy-http N      also run the local connectivity HTTP proxy on port N (BTP: 20003)
  --proxy-socks N     also run the local SOCKS5 (0x80) proxy on port N (BTP: 20004)
  --proxy-trusted A   proxy trusted mode: no proxy token, callers act for account A
  --proxy-host H      bind address of the proxy ports (default 127.0.0.1)

Agent options:
  --server URL        ws(s):// URL of the tunnel server
  --servers U1,U2,…   scale-out: one session per server instance URL
  --server-dns URL    scale-out: one session per A record of URL's host (headless service)
  --cf-app-guid G     scale-out on Cloud Foundry: with --cf-instances N, one session per app
  --cf-instances N      instance through the --server route (X-CF-APP-INSTANCE: G:index)
  --token T           bearer token (or CAP_CONNECTIVITY_TUNNEL_TOKEN)
  --config FILE       agent.json allowlist (re-read when it changes)
  --ca FILE           CA certificate (PEM) to trust for wss://
  --audit             print one JSON audit line per access decision

Forward options:
  --server URL, --token T, --ca FILE as above
  --location L        location id of the agents to reach (default: the default location)

  -h, --help          show this help

These processes run without V8's incremental marking (a full collection of their small heap is a
pause of a few ms; incremental cycles cost ~30% CPU under load). Start node with
--incremental-marking to keep it.
`

const str = (args: ParsedArgs, k: string): string | undefined =>
  typeof args.flags[k] === 'string' ? (args.flags[k] as string) : undefined

function portOf(value: string | undefined, name: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535)
    throw new UsageError(`tunnel: ${name} must be 0-65535, got "${value}".`)
  return Number(value)
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}

function tlsServerOf(args: ParsedArgs): { tls?: { cert: Buffer; key: Buffer } } {
  const cert = str(args, 'tls-cert')
  const key = str(args, 'tls-key')
  if (!cert && !key) return {}
  if (!cert || !key) throw new UsageError('tunnel server: --tls-cert and --tls-key go together.')
  return { tls: { cert: readFileSync(cert), key: readFileSync(key) } }
}

async function runServer(args: ParsedArgs): Promise<number> {
  const { TunnelServer } = await import('../../tunnel/server.js')
  const { failoverMetricsText } = await import('../../failover/metrics.js')
  const secret = str(args, 'secret') ?? process.env.CAP_CONNECTIVITY_TUNNEL_SECRET
  const jwksUrl = str(args, 'jwks-url')
  const insecure = args.flags['insecure-no-auth'] === true
  if ([secret, jwksUrl, insecure || undefined].filter(Boolean).length !== 1) {
    throw new UsageError('tunnel server: choose exactly one of --secret, --jwks-url or --insecure-no-auth.')
  }
  const checks = {
    ...(str(args, 'issuer') ? { issuer: str(args, 'issuer') as string } : {}),
    ...(str(args, 'audience') ? { audience: str(args, 'audience') as string } : {}),
    ...(str(args, 'scope') ? { scope: str(args, 'scope') as string } : {}),
  }
  const auth = insecure
    ? ({ insecureNoAuth: true } as const)
    : secret
      ? { secret, ...checks }
      : { jwksUrl: jwksUrl as string, ...checks }
  if (insecure)
    process.stderr.write('WARNING: --insecure-no-auth: anyone who reaches this port can use the tunnel.\n')
  const port = portOf(str(args, 'port') ?? process.env.PORT, '--port', 8080) as number
  let proxy: { close(): Promise<void>; metrics(): string; httpPort?: number; socksPort?: number } | undefined
  let server: InstanceType<typeof TunnelServer>
  try {
    server = new TunnelServer({
      port,
      host: str(args, 'host') ?? '127.0.0.1',
      path: str(args, 'path') ?? '/',
      auth,
      allow: (args.flags.allow as string[] | undefined) ?? [],
      extraMetrics: () => failoverMetricsText() + (proxy?.metrics() ?? ''),
      ...tlsServerOf(args),
    })
  } catch (err) {
    if (err instanceof RangeError || err instanceof TypeError)
      throw new UsageError(`tunnel server: ${err.message}`)
    throw err
  }
  const addr = await server.listen()
  process.stdout.write(
    `Tunnel server listening on ${addr.address}:${addr.port} (WebSocket path ${str(args, 'path') ?? '/'}, /healthz, /metrics).\n`,
  )
  const proxyHttp = portOf(str(args, 'proxy-http'), '--proxy-http')
  const proxySocks = portOf(str(args, 'proxy-socks'), '--proxy-socks')
  if (proxyHttp !== undefined || proxySocks !== undefined) {
    const { startLocalProxy } = await import('../../tunnel/proxy/attach.js')
    const trusted = str(args, 'proxy-trusted')
    proxy = await startLocalProxy(server, {
      ...(proxyHttp !== undefined ? { httpPort: proxyHttp } : {}),
      ...(proxySocks !== undefined ? { socksPort: proxySocks } : {}),
      ...(trusted ? { trustedAccount: trusted } : {}),
      ...(str(args, 'proxy-host') ? { host: str(args, 'proxy-host') as string } : {}),
    })
    process.stdout.write(
      `Local connectivity proxy: HTTP ${proxy.httpPort ?? '-'}, SOCKS5 ${proxy.socksPort ?? '-'} on ${str(args, 'proxy-host') ?? '127.0.0.1'}.\n`,
    )
  }
  await untilSignal()
  await proxy?.close()
  await server.close()
  return 0
}

function tokenOf(args: ParsedArgs, role: string): string {
  const token = str(args, 'token') ?? process.env.CAP_CONNECTIVITY_TUNNEL_TOKEN
  if (!token) throw new UsageError(`tunnel ${role}: --token is required (or CAP_CONNECTIVITY_TUNNEL_TOKEN).`)
  return token
}

function tlsOf(args: ParsedArgs): { tls?: { ca: Buffer } } {
  const ca = str(args, 'ca')
  return ca ? { tls: { ca: readFileSync(ca) } } : {}
}

async function runAgent(args: ParsedArgs): Promise<number> {
  const { TunnelAgent } = await import('../../tunnel/agent.js')
  const { createPrincipalHook } = await import('../../tunnel/principal/agent-hook.js')
  const { instanceSourceFromFlags, ScaleOutAgent } = await import('../../tunnel/ha/index.js')
  const { attachServiceChannels } = await import('../../tunnel/channels/index.js')
  const config = str(args, 'config')
  if (!config) throw new UsageError('tunnel agent: --config agent.json is required.')
  let source: ReturnType<typeof instanceSourceFromFlags>
  try {
    // One session per server instance (scale-out): --server, --servers a,b,c, --server-dns, or CF instances.
    source = instanceSourceFromFlags({
      server: str(args, 'server'),
      servers: str(args, 'servers'),
      serverDns: str(args, 'server-dns'),
      cfAppGuid: str(args, 'cf-app-guid'),
      cfInstances: str(args, 'cf-instances'),
    })
  } catch (err) {
    throw new UsageError(`tunnel agent: ${(err as Error).message}.`)
  }
  const token = tokenOf(args, 'agent')
  const ha = new ScaleOutAgent({
    source,
    createAgent: (instance) => {
      const agent = new TunnelAgent({
        server: instance.url,
        headers: instance.headers,
        token,
        config,
        httpHooks: [createPrincipalHook()],
        ...tlsOf(args),
      })
      if (args.flags.audit === true) agent.on('audit', (e) => process.stdout.write(`${JSON.stringify(e)}\n`))
      agent.on('connected', () =>
        process.stdout.write(
          `Agent connected to ${instance.key} (location "${agent.config?.locationId ?? ''}").\n`,
        ),
      )
      agent.on('disconnected', () =>
        process.stderr.write(`Agent disconnected from ${instance.key}; reconnecting.\n`),
      )
      agent.on('warning', (err: Error) =>
        process.stderr.write(`warning: ${isConnectivityError(err) ? `${err.code}: ` : ''}${err.message}\n`),
      )
      return agent
    },
  })
  ha.on('config', () => process.stdout.write('agent.json reloaded.\n'))
  ha.on('error', (err: Error) => process.stderr.write(`warning: ${err.message}\n`))
  await ha.start()
  const channels = await attachServiceChannels(ha)
  for (const [channel, port] of channels.ports())
    process.stdout.write(`Service channel ${channel} listening on port ${port}.\n`)
  await untilSignal()
  await channels.close()
  await ha.stop()
  return 0
}

async function runForward(args: ParsedArgs, specs: readonly string[]): Promise<number> {
  const { ForwardClient, parseForwardSpec } = await import('../../tunnel/forward.js')
  const server = str(args, 'server')
  if (!server) throw new UsageError('tunnel forward: --server is required.')
  if (!specs.length)
    throw new UsageError('tunnel forward: give at least one [localHost:]localPort:host:port.')
  let mappings: ReturnType<typeof parseForwardSpec>[]
  try {
    mappings = specs.map(parseForwardSpec)
  } catch (err) {
    throw new UsageError(`tunnel forward: ${(err as Error).message}`)
  }
  const location = str(args, 'location')
  const fwd = new ForwardClient({
    server,
    token: tokenOf(args, 'forward'),
    mappings,
    ...(location ? { locationId: location } : {}),
    ...tlsOf(args),
  })
  fwd.on('stream-error', (err: Error, m: { host: string; port: number }) =>
    process.stderr.write(
      `connection to ${m.host}:${m.port} not carried: ${isConnectivityError(err) ? `${err.code}: ` : ''}${err.message}\n`,
    ),
  )
  const listeners = await fwd.start()
  for (const l of listeners) {
    process.stdout.write(
      `Listening on ${l.address.address}:${l.address.port} → ${l.mapping.host}:${l.mapping.port}${location ? ` at location "${location}"` : ''}.\n`,
    )
  }
  const fatal = new Promise<number>((resolve) => fwd.once('fatal', () => resolve(1)))
  const code = await Promise.race([untilSignal().then(() => 0), fatal])
  await fwd.close()
  return code
}

export const command: Command = {
  help,
  options: {
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    path: { type: 'string' },
    secret: { type: 'string' },
    'jwks-url': { type: 'string' },
    issuer: { type: 'string' },
    audience: { type: 'string' },
    scope: { type: 'string' },
    'insecure-no-auth': { type: 'boolean' },
    allow: { type: 'string', multiple: true },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'proxy-http': { type: 'string' },
    'proxy-socks': { type: 'string' },
    'proxy-trusted': { type: 'string' },
    'proxy-host': { type: 'string' },
    server: { type: 'string' },
    servers: { type: 'string' },
    'server-dns': { type: 'string' },
    'cf-app-guid': { type: 'string' },
    'cf-instances': { type: 'string' },
    token: { type: 'string' },
    config: { type: 'string' },
    ca: { type: 'string' },
    audit: { type: 'boolean' },
    location: { type: 'string' },
  },
  async run(args) {
    const [role, ...rest] = args.positionals
    if (role !== 'forward' && rest.length)
      throw new UsageError(`tunnel ${role}: unexpected argument "${rest[0]}".`)
    if (role === 'server' || role === 'agent' || role === 'forward') tuneTunnelGc()
    switch (role) {
      case 'server':
        return runServer(args)
      case 'agent':
        return runAgent(args)
      case 'forward':
        return runForward(args, rest)
      default:
        throw new UsageError(
          role ? `tunnel: unknown role "${role}".` : 'tunnel: give a role: server, agent or forward.',
        )
    }
  },
}
