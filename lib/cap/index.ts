/**
 * `cap-connectivity/cap`: the CAP remote service class (the `impl` of the kinds this package
 * registers — CAP takes the default export) and the plugin's status counters.
 * Needs `@sap/cds` (peer dependency).
 */
import { ConnectivityRemoteService } from './remote-service'

export { ConnectivityRemoteService }
export { connectivityStatus, resetConnectivityStatus } from './status'
export type { ConnectivityStatus, ServiceStatus } from './status'
export { probeDestination } from './probe'
export type { DestinationProbe } from './probe'
export { devJwt } from './user-token'
export type { DevTokenOptions } from './user-token'
export default ConnectivityRemoteService
