/**
 * Turns an OData/REST response body into what CAP's stock remote service returns, so apps see the
 * same results with and without the plugin: V2 `d.results` / V4 `value` unwrapped, `__count` /
 * `@odata.count` as non-enumerable `$count`, V2 dates converted, `$batch` answers unpacked.
 */
import { convertV2 } from './cds-internals'

type Json = Record<string, unknown>

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null
}

function hide(obj: object, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: false, configurable: true, writable: true })
}

// Metadata keys (`__metadata`, `__count`, `@odata.context` …) move to non-enumerable `$…` keys,
// recursively, as CAP does — callers and CAP's post-processing never see wire annotations.
function normalizeMetadata(prefix: RegExp, data: unknown, results?: unknown): unknown {
  const target = results !== undefined ? results : data
  if (!isObject(target) || !isObject(data)) return target
  for (const key of Object.keys(data)) {
    if (!prefix.test(key)) continue
    hide(target, key.replace(prefix, '$'), data[key])
    delete (target as Json)[key]
  }
  if (Array.isArray(target)) {
    // In place, so the hidden `$count` etc. stay on the array.
    for (let i = 0; i < target.length; i++) target[i] = normalizeMetadata(prefix, target[i])
    return target
  }
  for (const [key, value] of Object.entries(target)) {
    if (isObject(value)) {
      const nested = Array.isArray(value.results) ? value.results : value
      ;(target as Json)[key] = normalizeMetadata(prefix, value, nested)
    }
  }
  return target
}

interface ReturnType {
  readonly kind?: string
  readonly items?: unknown
}

/** OData V2 body → rows / row / value. */
export function purgeODataV2(body: unknown, target: unknown, returnType?: unknown): unknown {
  if (!isObject(body) || !isObject(body.d)) return body
  let data: unknown = body.d
  const rt = returnType as ReturnType | undefined
  // A function returning a primitive or complex type wraps it in { d: { Name: value } }.
  if (rt && rt.kind === 'type' && !rt.items && isObject(data) && Object.keys(data).length === 1) {
    data = Object.values(data)[0]
  }
  const rows = isObject(data) && 'results' in data ? data.results : data
  return normalizeMetadata(/^__/, data, convertV2(rows, target, returnType))
}

/** OData V4 body → rows / row. */
export function purgeODataV4(body: unknown): unknown {
  if (!isObject(body)) return body
  const rows = 'value' in body ? body.value : body
  return normalizeMetadata(/^@odata\./, body, rows)
}

/**
 * Extracts the single response of an auto-`$batch` (CAP wraps a too-long GET into one batch part).
 * @returns `{ status, body }` of the inner response.
 */
export function unpackBatchedGet(text: string): { status: number; body: unknown } {
  const parts = text.split('\r\n\r\n')
  const statusLine = (parts[1] ?? '').split('\r\n')[0] ?? ''
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0)
  const content = (parts[2] ?? '').split('\r\n')[0] ?? ''
  let body: unknown = content
  try {
    body = JSON.parse(content)
  } catch {
    // Not JSON: keep the text; the caller reports the status.
  }
  return { status, body }
}

/** Applies the per-kind unwrapping CAP applies (`odata` guesses V2 vs V4 from the body). */
export function purgeForKind(
  kind: string | undefined,
  body: unknown,
  target: unknown,
  returnType: unknown,
): unknown {
  if (!isObject(body)) return body
  if (kind === 'odata-v2') return purgeODataV2(body, target, returnType)
  if (kind === 'odata' || kind === 'odata-v4')
    return body.d ? purgeODataV2(body, target, returnType) : purgeODataV4(body)
  return body
}
