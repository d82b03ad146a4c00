/**
 * Garbage-collector setting for the long-running tunnel processes (server, agent, forward).
 *
 * Their V8 heaps stay small (a few MB, ~100 MB with 10 000 open streams) while they turn over
 * socket buffers at hundreds of MB/s. With a young generation grown to its full size and little
 * old-generation headroom, V8 then starts an incremental marking cycle every ~100 ms; marking
 * steps and write barriers cost ~30% of the tunnel's CPU in `bench/tunnel.bench.js`. Without
 * incremental marking a full collection of such a heap is one pause of a few milliseconds.
 * A process started with its own marking flag keeps it.
 */
import { setFlagsFromString } from 'node:v8'

export function tuneTunnelGc(): boolean {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]
  if (given.some((a) => a.includes('incremental-marking'))) return false
  setFlagsFromString('--no-incremental-marking')
  return true
}
