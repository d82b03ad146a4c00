/**
 * Group lookup by name — registered groups first, then the `"groups"` of the configured
 * destinations file (re-read when the file changes) — plus the status and drill entry points.
 */
import { configVersion } from '../destination/config'
import { getConfiguredDocument, readDestinationsDocument } from '../destination/sources/file'
import { type DrillOptions, type DrillResult, drillGroup, groupNotFound } from './drill'
import type { GroupStatus } from './group-types'
import { findLoadedGroup, type GroupEntry, groupsOfDocument, useDocumentGroups } from './registry'

/**
 * The group called `name`, or undefined when it is not a group (then it is a plain destination name).
 * @throws DestinationError DESTINATIONS_FILE_INVALID / DESTINATION_INVALID when the configured file is broken.
 */
export async function findGroup(name: string): Promise<GroupEntry | undefined> {
  const entry = findLoadedGroup(name)
  if (entry && !entry.runtime.closed) return entry
  const now = Date.now()
  const version = configVersion()
  const fresh = checked && checked.version === version && now - checked.at < RECHECK_MS
  if (fresh) {
    const cached = checked?.entries?.get(name)
    if (!cached?.runtime.closed) return cached
  }
  const entries = useDocumentGroups(await getConfiguredDocument())
  checked = { at: now, version, entries }
  return entries?.get(name)
}

// Every request with a plain destination name asks whether the name is a group. Looking at the
// configured file (a stat call) at most once a second keeps that off the hot path; a
// configureDestinations() call is seen at once.
const RECHECK_MS = 1000
let checked: { at: number; version: number; entries: Map<string, GroupEntry> | undefined } | undefined

/**
 * Health and routing state of a group: which member is active and each member's probe results.
 * @example const { active, members } = await getGroupStatus('CPI')
 * @throws DestinationError DESTINATION_NOT_FOUND when there is no such group.
 */
export async function getGroupStatus(name: string): Promise<GroupStatus> {
  const entry = await findGroup(name)
  if (!entry) throw groupNotFound(name, 'the registered groups and the configured destinations file')
  return entry.runtime.status()
}

export interface RunDrillOptions extends DrillOptions {
  /** Read the group and its destinations from this file instead of the registered/configured ones. */
  readonly file?: string
}

/**
 * Runs a DR drill on a group: takes its serving member out inside this process (nothing changes on
 * the remote system), measures time to fail over and, after release, time to fail back.
 * @example const r = await runDrill('CPI'); console.log(r.timeToFailoverMs, r.timeToFailbackMs, r.servedBy)
 * @throws DestinationError DESTINATION_NOT_FOUND (unknown group), DESTINATIONS_FILE_INVALID / DESTINATION_INVALID (bad file).
 */
export async function runDrill(name: string, options: RunDrillOptions = {}): Promise<DrillResult> {
  if (typeof name !== 'string' || name === '') throw new TypeError('runDrill: "name" must be a group name')
  if (options.file === undefined) {
    const entry = await findGroup(name)
    if (!entry) throw groupNotFound(name, 'the registered groups and the configured destinations file')
    return drillGroup(entry, options)
  }
  const doc = await readDestinationsDocument(options.file)
  const entries = groupsOfDocument(doc)
  try {
    const entry = entries.get(name)
    if (!entry) throw groupNotFound(name, doc.path)
    return await drillGroup(entry, options)
  } finally {
    // These runtimes belong to this drill only: stop their probes.
    for (const e of entries.values()) e.runtime.close()
  }
}
