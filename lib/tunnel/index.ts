/**
 * `cap-connectivity/tunnel`: the multiplexed WebSocket tunnel — server (cloud side), agent
 * (on-premise side), local port forwarding, and the session/stream primitives under them.
 */
export { TunnelAgent } from './agent'
export type { TunnelAgentOptions } from './agent'
export { findMapping, parseAgentConfig, readAgentConfig } from './agent-config'
export type { AgentConfig, AgentMapping, HttpMapping, HttpResource, TcpMapping } from './agent-config'
export type { AgentHttpContext, AgentHttpHook, AuditEntry } from './agent-http'
export { HostPortAllowlist, parseHostPortRule } from './allowlist'
export { createDevToken, createTokenVerifier } from './auth'
export type { DevTokenOptions, TokenVerifier, TunnelAuthOptions, TunnelIdentity } from './auth'
export { TunnelClient } from './client'
export type { ClientOpenOptions, TunnelClientOptions } from './client'
export { Reason, reasonName } from './codes'
export type { ReasonCode } from './codes'
export type { TokenSource } from './dial'
export { ForwardClient, parseForwardSpec } from './forward'
export type { ForwardClientOptions, ForwardListener, ForwardMapping } from './forward'
export { FrameType, PROTOCOL_VERSION, SUBPROTOCOL } from './frames'
export { decodeFrame } from './frame-decode'
export type { Frame, OpenMetadata, StreamKind } from './frames'
export type { AgentInfo, AnnouncedMapping, SessionEntry } from './registry'
export { TunnelServer } from './server'
export type { ServerOpenStreamOptions, TunnelServerOptions } from './server'
export { TunnelSession } from './session'
export type { IncomingOpen, OpenStreamOptions, SessionCloseInfo, SessionOptions } from './session'
export { splice } from './splice'
export { TunnelStream } from './stream'
// Cloud Connector parity (issue 7): local connectivity proxy, principal propagation, scale-out, service channels.
export { attachServiceChannels, parseServiceChannels, ServiceChannels } from './channels'
export type { AttachedServiceChannels, ServiceChannel } from './channels'
export { instanceSourceFromFlags, resolveInstances, ScaleOutAgent } from './ha'
export type { InstanceAgent, InstanceSource, ScaleOutAgentOptions, ServerInstance } from './ha'
export {
  CertificateIssuer,
  createJwtVerifier,
  createLocalCa,
  createPrincipalHook,
  PrincipalPropagator,
  parsePrincipalPropagation,
  parseTrust,
} from './principal'
export type { PrincipalPropagationConfig, PropagationResult, TrustConfig } from './principal'
export {
  createTokenAuthenticator,
  HttpConnectivityProxy,
  Socks5ConnectivityProxy,
  startLocalProxy,
  trustedAuthenticator,
} from './proxy'
export type {
  LocalProxy,
  LocalProxyOptions,
  ProxyAuthenticator,
  ProxyStreamOpener,
  ProxyStreamRequest,
} from './proxy'
