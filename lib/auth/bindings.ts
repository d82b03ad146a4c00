/**
 * Service bindings, read the way CAP and the Cloud SDK read them: `VCAP_SERVICES` (Cloud Foundry),
 * then `SERVICE_BINDING_ROOT` (Kyma / servicebinding.io), then `default-env.json` in the cwd (local).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { debuglog } from 'node:util'
import { ConnectivityError } from '../errors'

const debug = debuglog('cap-connectivity:auth')

/** One bound service instance. `credentials` may hold secrets: never log or print it. */
export interface ServiceBinding {
  readonly label: string
  readonly name: string
  readonly tags: readonly string[]
  readonly plan?: string
  readonly credentials: Readonly<Record<string, unknown>>
}

let cachedKey: string | undefined
let cachedBindings: readonly ServiceBinding[] = []

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function toBinding(raw: unknown, fallbackLabel: string): ServiceBinding | undefined {
  if (!isRecord(raw)) return undefined
  const label = typeof raw.label === 'string' ? raw.label : fallbackLabel
  const binding: { -readonly [K in keyof ServiceBinding]: ServiceBinding[K] } = {
    label,
    name:
      typeof raw.name === 'string'
        ? raw.name
        : typeof raw.instance_name === 'string'
          ? raw.instance_name
          : label,
    tags: Object.freeze(
      Array.isArray(raw.tags) ? raw.tags.filter((t): t is string => typeof t === 'string') : [],
    ),
    credentials: Object.freeze(isRecord(raw.credentials) ? { ...raw.credentials } : {}),
  }
  if (typeof raw.plan === 'string') binding.plan = raw.plan
  return Object.freeze(binding)
}

/** Parses a VCAP_SERVICES document (`{ label: [binding, …] }`). */
function fromVcap(vcap: unknown, origin: string): ServiceBinding[] {
  if (!isRecord(vcap))
    throw new ConnectivityError('CONFIG_INVALID', `${origin} is not a JSON object of service lists.`)
  const out: ServiceBinding[] = []
  for (const [label, list] of Object.entries(vcap)) {
    if (!Array.isArray(list)) continue
    for (const raw of list) {
      const b = toBinding(raw, label)
      if (b) out.push(b)
    }
  }
  return out
}

function parseJson(text: string, origin: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    // V8's message quotes the input, which holds client secrets: keep only the position, no cause
    const at = /\(line (\d+) column (\d+)\)/.exec((err as Error).message)
    const where = at ? ` at line ${at[1]}, column ${at[2]}` : ''
    throw new ConnectivityError('CONFIG_INVALID', `${origin} is not valid JSON${where}; fix or remove it.`)
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/**
 * One directory per binding (servicebinding.io). SAP's BTP operator adds a `.metadata` file that says
 * which files are credentials and whether they hold JSON; without it every file except the
 * well-known metadata files is a text credential.
 */
function fromBindingRoot(root: string): ServiceBinding[] {
  const out: ServiceBinding[] = []
  let entries: string[]
  try {
    entries = readdirSync(root)
  } catch {
    return out
  }
  for (const dir of entries.sort()) {
    const path = join(root, dir)
    try {
      if (!statSync(path).isDirectory()) continue
    } catch {
      continue
    }
    const files = readdirSync(path).filter((f) => !f.startsWith('..'))
    const read = (f: string) => readText(join(path, f))?.replace(/\n$/, '')
    const meta = read('.metadata')
    const metaJson = meta ? parseJson(meta, `${join(path, '.metadata')}`) : undefined
    const formats = new Map<string, string>()
    const metaKeys = new Set([
      'type',
      'label',
      'provider',
      'tags',
      'plan',
      'instance_name',
      'instance_guid',
      'name',
    ])
    if (isRecord(metaJson)) {
      for (const p of Array.isArray(metaJson.credentialProperties) ? metaJson.credentialProperties : []) {
        if (isRecord(p) && typeof p.name === 'string') formats.set(p.name, String(p.format ?? 'text'))
      }
    }
    const credentials: Record<string, unknown> = {}
    for (const f of files) {
      if (f.startsWith('.') || metaKeys.has(f)) continue
      if (formats.size > 0 && !formats.has(f)) continue
      const value = read(f)
      if (value === undefined) continue
      credentials[f] = formats.get(f) === 'json' ? parseJson(value, join(path, f)) : value
    }
    const tagsText = read('tags')
    let tags: unknown = []
    if (tagsText)
      tags = tagsText.trim().startsWith('[')
        ? parseJson(tagsText, join(path, 'tags'))
        : tagsText.split(/[,\n]/)
    const b = toBinding(
      {
        label: read('label') ?? read('type') ?? dir,
        name: read('instance_name') ?? read('name') ?? dir,
        tags,
        plan: read('plan'),
        credentials,
      },
      dir,
    )
    if (b) out.push(b)
  }
  return out
}

function loadBindings(): readonly ServiceBinding[] {
  const vcap = process.env.VCAP_SERVICES
  const root = process.env.SERVICE_BINDING_ROOT
  const key = `${vcap ?? ''}\u0000${root ?? ''}\u0000${process.cwd()}`
  if (key === cachedKey) return cachedBindings
  let bindings: ServiceBinding[] = []
  if (vcap) bindings = fromVcap(parseJson(vcap, 'VCAP_SERVICES'), 'VCAP_SERVICES')
  else if (root) bindings = fromBindingRoot(root)
  else {
    const path = join(process.cwd(), 'default-env.json')
    const text = readText(path)
    if (text !== undefined) {
      const doc = parseJson(text, path)
      if (isRecord(doc) && doc.VCAP_SERVICES !== undefined)
        bindings = fromVcap(doc.VCAP_SERVICES, `${path} VCAP_SERVICES`)
    }
  }
  debug('loaded %d service binding(s): %s', bindings.length, bindings.map((b) => b.label).join(', '))
  cachedKey = key
  cachedBindings = Object.freeze(bindings)
  return cachedBindings
}

/**
 * Finds the first binding with this label (e.g. `destination`, `connectivity`, `xsuaa`), else the
 * first whose tags contain it (user-provided services).
 * @example const dest = findServiceBinding('destination')?.credentials.uri
 * @throws ConnectivityError CONFIG_INVALID when VCAP_SERVICES / default-env.json is not valid JSON.
 */
export function findServiceBinding(label: string): ServiceBinding | undefined {
  if (typeof label !== 'string' || label === '')
    throw new TypeError('findServiceBinding: "label" must be a non-empty string')
  const all = loadBindings()
  return all.find((b) => b.label === label) ?? all.find((b) => b.tags.includes(label))
}

/** Every binding currently visible (for diagnostics; credentials included, do not print them). */
export function listServiceBindings(): readonly ServiceBinding[] {
  return loadBindings()
}
