/**
 * The whole connectivity path on one machine, as `npm start` runs it:
 *
 *   browser ─► CAP sample app (:4004) ─► cap-connectivity plugin ─► tunnel server (ws)
 *              ─► tunnel agent (allowlist: the OData path only, principal propagation) ─► S/4 mock
 *
 * The S/4 mock and the CAP app run as child processes (one CAP per process); the tunnel server and
 * the agent run in this process. Everything listens on 127.0.0.1 only.
 */
const { fork } = require('node:child_process')
const { randomBytes } = require('node:crypto')
const path = require('node:path')
const { startS4Mock } = require('../s4-mock/launch.js')

const APP_DIR = path.resolve(__dirname, '..')
const ACCOUNT = 'demo'
const LOCATION = 'dc1'
const ODATA_PATH = '/sap/opu/odata/sap/API_SALES_ORDER_SRV'

/** agent.json for the demo: two virtual hosts for the same mock, deny everything else. */
function agentConfig(mockPort, secret) {
  const resources = [{ path: ODATA_PATH, subPaths: true }]
  return {
    locationId: LOCATION,
    trust: { secret },
    mappings: [
      {
        // Destination S4: principal propagation — the agent verifies the user JWT and passes the user on.
        protocol: 'HTTP',
        virtualHost: 's4-onprem',
        virtualPort: 44300,
        internalHost: '127.0.0.1',
        internalPort: mockPort,
        resources,
        principalPropagation: { mode: 'header', header: 'SAP-Connectivity-User' },
      },
      {
        // Destination S4_TECH: the system's technical user (basic auth from the destination).
        protocol: 'HTTP',
        virtualHost: 's4-onprem-tech',
        virtualPort: 44300,
        internalHost: '127.0.0.1',
        internalPort: mockPort,
        resources,
      },
    ],
  }
}

function startCapApp({ port, env, silent }) {
  const serve = require.resolve('@sap/cds/bin/serve.js', { paths: [APP_DIR] })
  const child = fork(serve, [], {
    cwd: APP_DIR,
    execPath: process.execPath,
    env: { ...process.env, NODE_ENV: 'development', ...env, PORT: String(port) },
    stdio: silent ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  let output = ''
  if (silent) {
    const keep = (d) => {
      output = (output + d).slice(-8000)
    }
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`CAP app did not start within 60 s:\n${output}`))
    }, 60_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`CAP app exited with code ${code} before listening:\n${output}`))
    })
    child.on('message', (m) => {
      if (m?.type !== 'listening') return
      clearTimeout(timer)
      child.removeAllListeners('exit')
      resolve({ child, port: m.port, output: () => output })
    })
  })
}

/**
 * Resolves once the server lists an agent for `location` with its mappings: right after the
 * agent's 'connected' event its ANNOUNCE may still be in flight, and a stream opened in that
 * window is refused.
 */
async function announced(server, location, timeoutMs = 5000) {
  const until = Date.now() + timeoutMs
  while (!server.agents(ACCOUNT).some((a) => a.locationId === location && a.mappings.length > 0)) {
    if (Date.now() > until)
      throw new Error(`No agent announced location "${location}" within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

function stopChild(child, ms = 5000) {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve()
    const timer = setTimeout(() => child.kill('SIGKILL'), ms)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

/**
 * Starts mock, tunnel server, agent and CAP app. `port` 0 picks a free port (tests); `silent: false`
 * shows the CAP app's log; `mockLog(line)` receives the mock's output lines.
 * @returns {Promise<{ url: string, mock, server, agent, cap, startAgent(): Promise<void>, stopAgent(): Promise<void>, stop(): Promise<void> }>}
 */
async function startDemo({ port = 4004, silent = true, mockLog } = {}) {
  const tunnel = require('cap-connectivity/tunnel')
  const secret = randomBytes(32).toString('base64url')
  const parts = {}
  const stop = async () => {
    await Promise.allSettled([stopChild(parts.cap?.child), parts.mock?.stop(), parts.agent?.stop()])
    await parts.server?.close()
  }
  try {
    // The mock's own CAP logs are noise here; its "[s4-mock] … as <user>" lines are the point.
    parts.mock = await startS4Mock({ silent: true, ...(mockLog ? { onLine: mockLog } : {}) })
    parts.server = new tunnel.TunnelServer({ host: '127.0.0.1', port: 0, auth: { secret } })
    await parts.server.listen()
    const tunnelUrl = `ws://127.0.0.1:${parts.server.address().port}`
    const token = (subject) =>
      tunnel.createDevToken({ secret, subject, account: ACCOUNT, ttlSeconds: 24 * 3600 })
    const config = agentConfig(parts.mock.port, secret)
    // The agent's principal propagation: verifies the user JWT against agent.json "trust" and sets
    // the mapping's user header.
    const startAgent = async () => {
      parts.agent = new tunnel.TunnelAgent({
        server: tunnelUrl,
        token: token('demo-agent'),
        config,
        httpHooks: [tunnel.createPrincipalHook()],
      })
      await parts.agent.start()
      await announced(parts.server, LOCATION)
    }
    await startAgent()
    parts.cap = await startCapApp({
      port,
      silent,
      env: {
        CAP_CONNECTIVITY_TUNNEL_URL: tunnelUrl,
        CAP_CONNECTIVITY_TUNNEL_TOKEN: token('sales-app'),
        // The plugin signs development user JWTs with it; the agent trusts it (agent.json "trust").
        CAP_CONNECTIVITY_DEV_SECRET: secret,
      },
    })
    return {
      url: `http://localhost:${parts.cap.port}`,
      port: parts.cap.port,
      tunnelUrl,
      location: LOCATION,
      mock: parts.mock,
      server: parts.server,
      get agent() {
        return parts.agent
      },
      cap: parts.cap,
      startAgent,
      stopAgent: async () => {
        await parts.agent?.stop()
        parts.agent = undefined
      },
      stop,
    }
  } catch (err) {
    await stop()
    throw err
  }
}

module.exports = { startDemo, stopChild, announced, ACCOUNT, LOCATION, ODATA_PATH }
