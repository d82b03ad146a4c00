/** Scale-out helpers: one agent session per tunnel server instance. */
export { instanceSourceFromFlags } from './cli-source'
export type { InstanceFlags } from './cli-source'
export { resolveInstances } from './instances'
export type { InstanceSource, ServerInstance } from './instances'
export { ScaleOutAgent } from './scale-out-agent'
export type { InstanceAgent, ScaleOutAgentOptions } from './scale-out-agent'
