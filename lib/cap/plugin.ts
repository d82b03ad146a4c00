/**
 * What `cds-plugin.js` loads when cap-connectivity is a dependency of a CAP app. The kinds
 * themselves come from this package's package.json#cds (CAP links them before any plugin code
 * runs); here we only point the destination resolver at the app's folder and report. No network
 * I/O and no heavy imports at load: the transport loads on the first remote call.
 */
import { loadCds } from './cds'
import { setDestinationsRoot } from './transport'

const started = performance.now()
const cds = loadCds()
const LOG = cds.log('connectivity')

// ./destinations.json is looked up relative to the CAP app, not the process cwd.
setDestinationsRoot(cds.root)

cds.on('served', () => {
  const ours: string[] = []
  for (const [name, srv] of Object.entries(cds.services)) {
    const s = srv as { options?: { connectivity?: unknown }; constructor?: { name?: string } }
    if (s?.constructor?.name === 'ConnectivityRemoteService' && s.options?.connectivity !== false)
      ours.push(name)
  }
  if (ours.length && LOG._info) LOG.info('remote services via cap-connectivity:', ours.join(', '))
})

/** Milliseconds the plugin took to load (reported by the tests and the README). */
export const pluginLoadMs = performance.now() - started
LOG._debug && LOG.debug(`plugin loaded in ${pluginLoadMs.toFixed(1)} ms`)
