/** TCP destinations: connected streams for drivers, and local ports for tools. */
export { connectTcp } from './connect'
export type { ConnectTcpOptions } from './connect'
export { openLocalPort } from './local-port'
export type { LocalPort, OpenLocalPortOptions } from './local-port'
export { TcpStream } from './tcp-stream'
export type { TcpStreamInfo } from './tcp-stream'
