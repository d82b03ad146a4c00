// Cloud Foundry entry of the tunnel server module (mta.yaml): runs `cap-connectivity tunnel server`
// on $PORT and lets agents in only with an XSUAA token of the bound instance carrying the
// TunnelAgent scope (verified against the instance's JWKS, issuer checked).
const { spawn } = require('node:child_process')
const path = require('node:path')

/** The CLI arguments for the xsuaa binding found in `env.VCAP_SERVICES`. */
function serverArgs(env) {
  const vcap = JSON.parse(env.VCAP_SERVICES || '{}')
  const binding = Object.values(vcap)
    .flat()
    .find((b) => b && (b.label === 'xsuaa' || (b.tags || []).includes('xsuaa')))
  if (!binding?.credentials?.url) {
    throw new Error('No xsuaa binding in VCAP_SERVICES: bind the xsuaa instance (mta.yaml resource sales-xsuaa).')
  }
  const url = binding.credentials.url.replace(/\/+$/, '')
  return [
    'tunnel',
    'server',
    '--host',
    '0.0.0.0',
    '--port',
    String(env.PORT || 8080),
    '--jwks-url',
    `${url}/token_keys`,
    '--issuer',
    `${url}/oauth/token`,
    '--scope',
    'TunnelAgent',
  ]
}

function main() {
  const bin = path.join(path.dirname(require.resolve('cap-connectivity/package.json')), 'bin', 'cap-connectivity.js')
  const child = spawn(process.execPath, [bin, ...serverArgs(process.env)], { stdio: 'inherit' })
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
}

if (require.main === module) main()
module.exports = { serverArgs }
