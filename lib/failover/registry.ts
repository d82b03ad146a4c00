/**
 * Where groups live: registered ones (`registerDestinationGroup`) and those of a destinations
 * document (the `"groups"` array next to `"destinations"`). Each group has one runtime, created on
 * first lookup, so probes and health are shared by every caller in the process.
 */
import type { Destination } from '../destination/types'
import { DestinationError } from '../errors'
import { GroupRuntime, type MemberProber } from './group-runtime'
import type { DestinationGroup, DestinationGroupInput, GroupStatus } from './group-types'
import { defaultProberFactory } from './member-transport'
import { parseGroup } from './parse-group'

/** What a member name stands for: a destination object from the same document, or a name resolved per request. */
export type MemberTarget = (member: string) => string | Destination

export interface GroupEntry {
  readonly runtime: GroupRuntime
  readonly target: MemberTarget
  /** Sends the group's probe request to one member (used by probes and drills). */
  readonly prober: MemberProber
}

/** A destinations document as returned by readDestinationsDocument / getConfiguredDocument. */
export interface GroupDocument {
  readonly path: string
  readonly destinations: readonly Destination[]
  readonly groups: readonly unknown[]
}

const registered = new Map<string, GroupEntry>()
const documents = new WeakMap<GroupDocument, Map<string, GroupEntry>>()
let current: { doc: GroupDocument; entries: Map<string, GroupEntry> } | undefined
function proberFor(target: MemberTarget, explicit?: MemberProber): MemberProber {
  return explicit ?? defaultProberFactory(target)
}

export interface RegisterGroupOptions {
  /** Replaces the HTTP/TCP probe (tests, custom health checks). */
  readonly prober?: MemberProber
  /** Destination objects for the members (otherwise member names are resolved like any destination). */
  readonly destinations?: readonly Destination[]
}

/**
 * Defines a destination group in code; it can then be used by name wherever a destination name is accepted.
 * Re-registering a name replaces the group (its probes restart).
 * @example
 * registerDestinationGroup({ name: 'CPI', routing: 'priority',
 *   members: [{ destination: 'CPI_EU20', priority: 1 }, { destination: 'CPI_US21', priority: 2 }],
 *   probe: { path: '/http/health', expectedStatus: ['200-299', '401'], intervalSeconds: 30, toleratedFailures: 2 } })
 * @throws DestinationError DESTINATION_INVALID when the definition is not valid.
 */
export function registerDestinationGroup(
  input: DestinationGroupInput,
  options: RegisterGroupOptions = {},
): DestinationGroup {
  const byName = options.destinations ? new Map(options.destinations.map((d) => [d.name, d])) : undefined
  const group = parseGroup(input, byName ? { knownDestinations: new Set(byName.keys()) } : {})
  const target: MemberTarget = (m) => byName?.get(m) ?? m
  const prober = proberFor(target, options.prober)
  registered.get(group.name)?.runtime.close()
  registered.set(group.name, { runtime: new GroupRuntime(group, prober), target, prober })
  return group
}

/** Removes a registered group and stops its probes. Returns false when there was none. */
export function unregisterDestinationGroup(name: string): boolean {
  const e = registered.get(name)
  e?.runtime.close()
  return registered.delete(name)
}

/**
 * The groups of a destinations document, validated against the document's own destinations.
 * Cached per document object, so a re-read file (a new object) gets fresh groups.
 * @throws DestinationError DESTINATION_INVALID naming the file and group.
 */
export function groupsOfDocument(doc: GroupDocument, prober?: MemberProber): Map<string, GroupEntry> {
  const cached = documents.get(doc)
  if (cached && !prober) return cached
  const byName = new Map(doc.destinations.map((d) => [d.name, d]))
  const known = new Set(byName.keys())
  const target: MemberTarget = (m) => byName.get(m) ?? m
  const entries = new Map<string, GroupEntry>()
  for (const raw of doc.groups) {
    const group = parseGroup(raw, { origin: doc.path, knownDestinations: known })
    if (entries.has(group.name) || known.has(group.name)) {
      for (const e of entries.values()) e.runtime.close()
      throw new DestinationError(
        'DESTINATION_INVALID',
        `Destination group "${group.name}" (${doc.path}): the name is used twice; group and destination names must be unique in a file.`,
        { details: { group: group.name, origin: doc.path } },
      )
    }
    const p = proberFor(target, prober)
    entries.set(group.name, { runtime: new GroupRuntime(group, p), target, prober: p })
  }
  if (!prober) documents.set(doc, entries)
  return entries
}

/**
 * Makes `doc` the configured document whose groups `findGroup` sees; the runtimes of the previous
 * document are closed when the document changes (the file was edited).
 */
export function useDocumentGroups(doc: GroupDocument | undefined): Map<string, GroupEntry> | undefined {
  if (current && current.doc === doc) return current.entries
  const previous = current
  current = doc ? { doc, entries: groupsOfDocument(doc) } : undefined
  if (previous) for (const e of previous.entries.values()) e.runtime.close()
  return current?.entries
}

/** A registered group, or one of the configured document (registered ones win, like registered destinations). */
export function findLoadedGroup(name: string): GroupEntry | undefined {
  return registered.get(name) ?? current?.entries.get(name)
}

/** Status of a loaded group, or undefined. */
export function loadedGroupStatus(name: string): GroupStatus | undefined {
  return findLoadedGroup(name)?.runtime.status()
}

/** Stops every probe and forgets all groups (registered and from files). Call on shutdown or between tests. */
export function closeFailover(): void {
  for (const e of registered.values()) e.runtime.close()
  registered.clear()
  if (current) {
    for (const e of current.entries.values()) e.runtime.close()
    documents.delete(current.doc)
  }
  current = undefined
}
