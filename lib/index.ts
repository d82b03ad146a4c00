/**
 * cap-connectivity — SAP BTP connectivity for any Node app: destinations, principal propagation,
 * connectivity proxy, tunnel, TCP/RFC and failover. This is the one public entry; optional parts
 * live in the subpaths `cap-connectivity/tunnel` and `cap-connectivity/cap`.
 */
export {
  AuthError,
  ConnectivityError,
  DestinationError,
  hasErrorCode,
  isConnectivityError,
  TransportError,
  TunnelError,
} from './errors'
export type { ConnectivityErrorCode, ConnectivityErrorOptions, ErrorDetails } from './errors'
export { USER_DEPENDENT_AUTHENTICATIONS } from './destination/types'
export type {
  AuthenticationType,
  AuthToken,
  Destination,
  DestinationBase,
  DestinationCertificate,
  DestinationProperties,
  DestinationSource,
  DestinationType,
  HttpCredentials,
  HttpDestination,
  LdapDestination,
  MailDestination,
  ProxyType,
  RfcDestination,
  RfcSettings,
  TcpDestination,
  TcpOptions,
  TlsSettings,
} from './destination/types'
