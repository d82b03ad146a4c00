/** Service channels: local ports on the agent host that reach cloud-side targets through the server. */
export { parseServiceChannels, ServiceChannels } from './service-channels'
export type { ServiceChannel, ServiceChannelAgent } from './service-channels'
export { attachServiceChannels } from './attach'
export type { AttachedServiceChannels, ChannelHostAgent } from './attach'
