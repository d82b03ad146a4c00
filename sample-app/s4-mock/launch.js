/**
 * Starts the S/4 mock in a child process (CAP is a singleton per process, so the mock cannot share
 * one with the app that calls it). Used by scripts/start.js, the tests and the benchmark.
 *
 *   const mock = await startS4Mock({ port: 0 })   // → { url, port, child, requests(), stop() }
 */
const { fork } = require('node:child_process')
const path = require('node:path')

const serveJs = require.resolve('@sap/cds/bin/serve.js', { paths: [__dirname] })

/**
 * @param {{ port?: number, env?: Record<string,string>, silent?: boolean, onLine?: (line: string) => void,
 *   startTimeoutMs?: number }} [opts]  silent: capture output (default); onLine: called per captured line.
 * @returns {Promise<{ url: string, port: number, child: import('node:child_process').ChildProcess,
 *   requests(): Promise<Array<{method:string,url:string,user:string|null,via:string|null}>>, stop(): Promise<void> }>}
 */
function startS4Mock(opts = {}) {
  const { port = 0, env = {}, silent = true, onLine, startTimeoutMs = 30000 } = opts
  const child = fork(serveJs, [], {
    cwd: __dirname,
    // process.execPath: the Node that runs the caller (22 from npm start/npx), never PATH's node.
    execPath: process.execPath,
    env: { ...process.env, NODE_ENV: 'development', CDS_ENV: '', ...env, PORT: String(port) },
    stdio: silent ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  let output = ''
  if (silent) {
    let partial = ''
    const keep = (d) => {
      output = (output + d).slice(-8000)
      if (!onLine) return
      const lines = (partial + d).split('\n')
      partial = lines.pop()
      for (const line of lines) onLine(line)
    }
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
  }
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      child.once('exit', () => {
        clearTimeout(timer)
        resolve()
      })
      child.kill('SIGTERM')
    })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop()
      reject(new Error(`S/4 mock did not start within ${startTimeoutMs} ms:\n${output}`))
    }, startTimeoutMs)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`S/4 mock exited with code ${code} before listening:\n${output}`))
    })
    child.on('message', (msg) => {
      if (!msg || msg.type !== 'listening') return
      clearTimeout(timer)
      child.removeAllListeners('exit')
      const url = `http://127.0.0.1:${msg.port}`
      resolve({
        url,
        port: msg.port,
        child,
        output: () => output,
        requests: async () => (await fetch(`${url}/mock/requests`)).json(),
        stop,
      })
    })
  })
}

module.exports = { startS4Mock, mockDir: path.resolve(__dirname) }
