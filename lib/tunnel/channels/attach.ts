/**
 * Runs an agent's `serviceChannels` from agent.json and follows reloads of the file.
 */
import type { EventEmitter } from 'node:events'
import { debuglog } from 'node:util'
import { parseServiceChannels, type ServiceChannelAgent, ServiceChannels } from './service-channels'

const debug = debuglog('cap-connectivity:service-channel')

/** An agent that emits 'config' (with `{ raw }`) on every agent.json (re)load. */
export type ChannelHostAgent = ServiceChannelAgent &
  Pick<EventEmitter, 'on' | 'off' | 'emit'> & {
    readonly config: { readonly raw: Readonly<Record<string, unknown>> } | undefined
  }

/** Running channels of one agent. */
export interface AttachedServiceChannels {
  /** Local ports currently listening, by channel (`localHost:localPort>host:port`). */
  ports(): Map<string, number>
  /** Stops following config changes and closes every listener. */
  close(): Promise<void>
}

/**
 * Starts the channels of the agent's current config and re-applies them on 'config' events.
 * Errors (bad entries, ports in use) are emitted as the agent's 'warning'.
 * @example await agent.start(); const channels = await attachServiceChannels(agent); … await channels.close()
 * @throws ConnectivityError `CONFIG_INVALID` / `PORT_IN_USE` for the initial configuration.
 */
export async function attachServiceChannels(agent: ChannelHostAgent): Promise<AttachedServiceChannels> {
  const channels = new ServiceChannels(agent)
  const onConfig = (config: { raw: Readonly<Record<string, unknown>> }): void => {
    let parsed: ReturnType<typeof parseServiceChannels>
    try {
      parsed = parseServiceChannels(config.raw.serviceChannels)
    } catch (err) {
      agent.emit('warning', err)
      return
    }
    channels.apply(parsed).catch((err: unknown) => {
      debug('service channels not applied: %s', (err as Error).message)
      agent.emit('warning', err)
    })
  }
  await channels.apply(parseServiceChannels(agent.config?.raw.serviceChannels))
  agent.on('config', onConfig)
  return {
    ports: () => channels.ports(),
    close: async () => {
      agent.off('config', onConfig)
      await channels.close()
    },
  }
}
