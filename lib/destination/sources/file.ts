/**
 * The destinations file: a JSON array of BTP destinations, or `{ "destinations": [...], "groups": [...] }`.
 * The configured file is re-read when its mtime/size change (a stat per lookup costs < 1 µs), and an
 * invalid file is reported on every lookup instead of being skipped.
 */
import { readFileSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { isAbsolute, join, resolve } from 'node:path'
import { debuglog } from 'node:util'
import { DestinationError, isConnectivityError } from '../../errors'
import { currentConfig } from '../config'
import { parseJsonText } from '../json-text'
import { parseWithExtras } from '../parse'
import type { Destination } from '../types'

const debug = debuglog('cap-connectivity:destination')

/** A parsed destinations file. `groups` is kept raw for the failover module. */
export interface DestinationsDocument {
  readonly path: string
  readonly destinations: readonly Destination[]
  readonly groups: readonly unknown[]
}

const KNOWN_KEYS = new Set(['destinations', 'groups', '$schema'])

function fileError(
  path: string,
  message: string,
  extra: Record<string, string | number> = {},
  cause?: unknown,
) {
  return new DestinationError('DESTINATIONS_FILE_INVALID', `Destinations file ${path}: ${message}`, {
    details: { file: path, ...extra },
    ...(cause === undefined ? {} : { cause }),
  })
}

/**
 * Parses the text of a destinations file.
 * @throws DestinationError DESTINATIONS_FILE_INVALID (syntax with line/column, layout, duplicates) or DESTINATION_INVALID.
 */
export function parseDestinationsDocument(text: string, path: string, strict: boolean): DestinationsDocument {
  const parsed = parseJsonText(text)
  if ('problem' in parsed) {
    const { line, column, reason } = parsed.problem
    throw fileError(
      path,
      `invalid JSON at line ${line}, column ${column} (${reason}). Fix the syntax; the file is not used until then.`,
      {
        line,
        column,
      },
    )
  }
  const doc = parsed.value
  let list: unknown
  let groups: unknown = []
  if (Array.isArray(doc)) list = doc
  else if (typeof doc === 'object' && doc !== null) {
    const obj = doc as Record<string, unknown>
    const unknownKeys = Object.keys(obj).filter((k) => !KNOWN_KEYS.has(k))
    if (unknownKeys.length > 0) {
      if (strict)
        throw fileError(
          path,
          `unknown top-level key(s) ${unknownKeys.map((k) => `"${k}"`).join(', ')} (strict mode allows destinations, groups).`,
        )
      debug('%s: ignoring unknown top-level keys %s', path, unknownKeys.join(', '))
    }
    list = obj.destinations ?? []
    groups = obj.groups ?? []
    if (!Array.isArray(groups)) throw fileError(path, '"groups" must be an array.')
  } else {
    throw fileError(path, 'must be a JSON array of destinations or an object { "destinations": [...] }.')
  }
  if (!Array.isArray(list)) throw fileError(path, '"destinations" must be an array of destination objects.')
  const destinations: Destination[] = []
  const seen = new Map<string, number>()
  list.forEach((entry, i) => {
    const dest = parseWithExtras(entry, { source: 'file', origin: `${path}, entry #${i + 1}` })
    const first = seen.get(dest.name)
    if (first !== undefined) {
      throw fileError(
        path,
        `entries #${first + 1} and #${i + 1} are both named "${dest.name}"; destination names must be unique.`,
        {
          destination: dest.name,
        },
      )
    }
    seen.set(dest.name, i)
    destinations.push(dest)
  })
  return Object.freeze({
    path,
    destinations: Object.freeze(destinations),
    groups: Object.freeze([...(groups as unknown[])]),
  })
}

/**
 * Reads and parses a destinations file.
 * @example const { destinations, groups } = await readDestinationsDocument('./destinations.json')
 * @throws DestinationError DESTINATIONS_FILE_INVALID when missing, unreadable or invalid; DESTINATION_INVALID for a bad entry.
 */
export async function readDestinationsDocument(path: string): Promise<DestinationsDocument> {
  if (typeof path !== 'string' || path === '')
    throw new TypeError('readDestinationsDocument: "path" must be a non-empty string')
  const abs = resolve(path)
  let text: string
  try {
    text = await readFile(abs, 'utf8')
  } catch (cause) {
    throw fileError(
      abs,
      `cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'}). Check the path.`,
      {},
      cause,
    )
  }
  return parseDestinationsDocument(text, abs, currentConfig().strict)
}

/**
 * Reads a destinations file and returns its destinations (it does not become a lookup source:
 * use `configureDestinations({ file })` or `registerDestination` for that).
 * @throws DestinationError DESTINATIONS_FILE_INVALID / DESTINATION_INVALID.
 */
export async function loadDestinationsFile(path: string): Promise<Destination[]> {
  return [...(await readDestinationsDocument(path)).destinations]
}

/** The configured file path and whether it was set explicitly (then it must exist). */
export function configuredFilePath(): { path: string; explicit: boolean } {
  const cfg = currentConfig()
  const explicit = cfg.file ?? process.env.CAP_CONNECTIVITY_DESTINATIONS
  const root = cfg.root ?? process.cwd()
  // memoised: this runs on every lookup
  if (pathMemo && pathMemo.cfg === cfg && pathMemo.explicitIn === explicit && pathMemo.root === root)
    return pathMemo.result
  const result = explicit
    ? { path: isAbsolute(explicit) ? explicit : join(root, explicit), explicit: true }
    : { path: join(root, 'destinations.json'), explicit: false }
  pathMemo = { cfg, explicitIn: explicit, root, result }
  return result
}

let pathMemo:
  | { cfg: object; explicitIn: string | undefined; root: string; result: { path: string; explicit: boolean } }
  | undefined

interface Loaded {
  path: string
  stamp: string
  strict: boolean
  doc?: DestinationsDocument
  byName?: Map<string, Destination>
  error?: unknown
}
const loaded = new Map<string, Loaded>()

/**
 * The document at `path` with a name index, re-read when the file changes. Returns undefined when
 * the file does not exist and `mustExist` is false. Parse errors are cached per file version and
 * re-thrown, so a broken file fails every lookup until it is fixed.
 */
export function loadDocumentSync(
  path: string,
  mustExist: boolean,
): { doc: DestinationsDocument; byName: Map<string, Destination> } | undefined {
  const st = statSync(path, { throwIfNoEntry: false })
  if (!st) {
    loaded.delete(path)
    if (mustExist)
      throw fileError(
        path,
        'does not exist. Fix CAP_CONNECTIVITY_DESTINATIONS / the configured file, or create it.',
      )
    return undefined
  }
  const strict = currentConfig().strict
  const stamp = `${st.mtimeMs}:${st.ctimeMs}:${st.size}:${st.ino}`
  let entry = loaded.get(path)
  if (!entry || entry.stamp !== stamp || entry.strict !== strict) {
    entry = { path, stamp, strict }
    try {
      const doc = parseDestinationsDocument(readFileSync(path, 'utf8'), path, strict)
      entry.doc = doc
      entry.byName = new Map(doc.destinations.map((d) => [d.name, d]))
      debug('loaded %d destination(s) from %s', doc.destinations.length, path)
    } catch (err) {
      entry.error = isConnectivityError(err)
        ? err
        : fileError(path, `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}).`, {}, err)
    }
    loaded.set(path, entry)
  }
  if (entry.error) throw entry.error
  return { doc: entry.doc as DestinationsDocument, byName: entry.byName as Map<string, Destination> }
}

/**
 * The configured destinations file (CAP_CONNECTIVITY_DESTINATIONS, `configureDestinations({ file })`
 * or `<root>/destinations.json`), re-read when it changes; undefined when there is none.
 * @throws DestinationError DESTINATIONS_FILE_INVALID / DESTINATION_INVALID.
 */
export async function getConfiguredDocument(): Promise<DestinationsDocument | undefined> {
  const { path, explicit } = configuredFilePath()
  return loadDocumentSync(path, explicit)?.doc
}

/** Forgets every loaded file (next lookup re-reads). */
export function clearLoadedDocuments(): void {
  loaded.clear()
}
