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
export {
  clearDestinationCache,
  configureDestinations,
  getDestination,
  registerDestination,
  resolveDestination,
} from './destination/resolve'
export type { GetDestinationOptions } from './destination/resolve'
export type { DestinationsConfig } from './destination/config'
export { parseDestination } from './destination/parse'
export type { ParseContext } from './destination/parse'
export {
  getConfiguredDocument,
  loadDestinationsFile,
  readDestinationsDocument,
} from './destination/sources/file'
export type { DestinationsDocument } from './destination/sources/file'
export { fromCloudSdkDestination, toCloudSdkDestination } from './destination/cloud-sdk'
export type {
  CloudSdkAuthenticationType,
  CloudSdkAuthToken,
  CloudSdkDestination,
} from './destination/cloud-sdk'
export { assertUsableJwt, decodeJwt } from './auth/jwt'
export type { JwtIdentity } from './auth/jwt'
export { findServiceBinding } from './auth/bindings'
export type { ServiceBinding } from './auth/bindings'
export { clearTokenCache, fetchToken, tokenUrlForTenant } from './auth/token-client'
export type { AccessToken, TokenRequest } from './auth/token-client'
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
export { openLocalPort, TcpStream } from './tcp'
// `request` and `connectTcp` are the group-aware versions: plain destinations pass straight through
// to lib/http and lib/tcp, group names get failover (lib/failover).
export { connectTcp, request } from './failover/group-request'
export type { RequestInit } from './failover/group-request'
export type { ConnectTcpOptions, LocalPort, OpenLocalPortOptions, TcpStreamInfo } from './tcp'
export { RfcError, rfc, rfcParameters } from './rfc'
export type {
  RfcAbapMessage,
  RfcCallOptions,
  RfcCallResult,
  RfcConnectionKind,
  RfcConnectionParameters,
  RfcErrorCode,
  RfcParametersOptions,
  RfcPoolOptions,
  RfcResult,
  RfcResultStructure,
  RfcResultValue,
  RfcScalar,
  RfcStructure,
  RfcTable,
  RfcValue,
} from './rfc'
export {
  closeFailover,
  registerDestinationGroup,
  unregisterDestinationGroup,
} from './failover/registry'
export type { RegisterGroupOptions } from './failover/registry'
export { getGroupStatus, runDrill } from './failover/find-group'
export type { RunDrillOptions } from './failover/find-group'
export type { DrillOptions, DrillRequest, DrillResult } from './failover/drill'
export { failoverEvents } from './failover/events'
export type { FailoverEventMap, HealthReason, MemberEvent, SwitchEvent } from './failover/events'
export { failoverMetricsText } from './failover/metrics'
export type { MemberProber } from './failover/group-runtime'
export type {
  DestinationGroup,
  DestinationGroupInput,
  GroupMember,
  GroupStatus,
  MemberStatus,
  ProbeSettings,
  RetryCondition,
  RoutingMethod,
} from './failover/group-types'
export type { StatusRange } from './failover/status-range'
export { configureTunnel, getConfiguredTunnel, TunnelConnector } from './transport/tunnel'
export type { TunnelConnectorOptions } from './transport/tunnel'
export type { HttpResponse, PrincipalPropagationMode, RequestBody } from './http/types'
export { executeHttpRequest, HttpStatusError } from './http/execute'
export type {
  DestinationOrFetchOptions,
  HttpExecuteResponse,
  HttpRequestConfig,
  HttpRequestOptions,
} from './http/execute'
export { createDispatcher } from './http/dispatcher'
export type { CreateDispatcherOptions } from './http/dispatcher'
export { clearCsrfCache } from './http/csrf'
export { verifyJwt } from './auth/verify'
export type { VerifyJwtOptions } from './auth/verify'
export { readConnectivityBinding } from './auth/connectivity'
export type { ConnectivityBinding } from './auth/connectivity'
export { DirectConnector } from './transport/direct'
export type { DirectConnectorOptions } from './transport/direct'
export { Socks5Connector } from './transport/socks5'
export type { Socks5ConnectorOptions, Socks5TokenProvider } from './transport/socks5'
export { HttpConnectConnector } from './transport/http-connect'
export type { HttpConnectConnectorOptions } from './transport/http-connect'
export { getRoute, registerTunnelProvider } from './transport/route'
export type { Route, RouteKind, RouteOptions } from './transport/route'
export { closeAllPools as closeHttpPools } from './transport/pools'
export type { ConnectContext, Connector, ConnectTarget } from './transport/connector'
export type { DestinationTlsOptions } from './transport/tls-options'
