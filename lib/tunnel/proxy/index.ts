/** The local connectivity proxy: SAP HTTP proxy and SOCKS5 (method 0x80) front-ends. */
export {
  accountOfClaims,
  cachedAuthenticator,
  createTokenAuthenticator,
  tokenFromProxyAuthorization,
  trustedAuthenticator,
} from './auth'
export { HttpConnectivityProxy } from './http-proxy'
export type { HttpConnectivityProxyOptions } from './http-proxy'
export { rawPathOfAbsoluteUri, unsafePathReason } from './path-safety'
export { Socks5ConnectivityProxy } from './socks5-server'
export type { Socks5ConnectivityProxyOptions } from './socks5-server'
export { classifyFailure, httpStatusFor, SocksReply, socksReplyFor } from './status'
export type { FailureKind } from './status'
export type { ProxyAuthenticator, ProxyCaller, ProxyStreamOpener, ProxyStreamRequest } from './types'
export { serverAuthenticator, startLocalProxy } from './attach'
export type { LocalProxy, LocalProxyHost, LocalProxyOptions } from './attach'
