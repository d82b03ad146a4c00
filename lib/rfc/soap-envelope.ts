/**
 * Builds the SOAP 1.1 request of SAP's SOAP-RFC endpoint (`/sap/bc/soap/rfc`): the function module
 * is the body's element in namespace `urn:sap-com:document:sap:rfc:functions`, each importing,
 * changing and tables parameter a child element. Every value is escaped; names are checked.
 */

/** A scalar RFC value; numbers and booleans are sent as their ABAP text (`true` → `X`, `false` → ''). */
export type RfcScalar = string | number | bigint | boolean | Uint8Array
/** A structure: fields by name. */
export interface RfcStructure {
  readonly [field: string]: RfcValue
}
/** A table: an array of rows (structures, or scalars for unstructured line types). */
export type RfcTable = readonly (RfcStructure | RfcScalar)[]
/** Anything a parameter may hold. `null` / `undefined` leave the parameter out (ABAP uses its default). */
export type RfcValue = RfcScalar | RfcStructure | RfcTable | null | undefined

export const RFC_NAMESPACE = 'urn:sap-com:document:sap:rfc:functions'
const SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/'

// ABAP names: letters, digits, underscore and the namespace slash (e.g. /BIC/FIELD).
const NAME = /^[A-Za-z_/][A-Za-z0-9_/]{0,60}$/
// Characters XML 1.0 cannot carry at all, not even escaped.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const INVALID_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/

/** ABAP's `/` is not allowed in XML names; SAP's SOAP processor writes it as `_-`. */
export function encodeAbapName(name: string, what: string): string {
  if (!NAME.test(name)) {
    throw new TypeError(`${what} "${name}" is not a valid ABAP name (letters, digits, "_" and "/").`)
  }
  return name.toUpperCase().replaceAll('/', '_-')
}

/** Reverse of encodeAbapName for names read from a response. */
export function decodeAbapName(xmlName: string): string {
  return xmlName.replaceAll('_-', '/')
}

/** Escapes text for element content; throws TypeError for characters XML cannot carry. */
export function escapeXml(text: string, where: string): string {
  if (INVALID_XML_CHAR.test(text)) {
    throw new TypeError(`RFC parameter ${where} contains a control character that XML cannot carry.`)
  }
  return text.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;',
  )
}

function scalarText(value: RfcScalar, where: string): string {
  if (typeof value === 'string') return escapeXml(value, where)
  if (typeof value === 'boolean') return value ? 'X' : ''
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new TypeError(`RFC parameter ${where} is ${value}; ABAP has no such number.`)
    return String(value)
  }
  // RAW / XSTRING travel base64-encoded in SOAP-RFC.
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
}

function isScalar(value: unknown): value is RfcScalar {
  const t = typeof value
  return t === 'string' || t === 'number' || t === 'bigint' || t === 'boolean' || value instanceof Uint8Array
}

function writeValue(out: string[], tag: string, value: RfcValue, where: string, depth: number): void {
  if (value === null || value === undefined) return
  if (depth > 16) throw new TypeError(`RFC parameter ${where} is nested deeper than 16 levels.`)
  if (isScalar(value)) {
    out.push(`<${tag}>${scalarText(value, where)}</${tag}>`)
    return
  }
  out.push(`<${tag}>`)
  if (Array.isArray(value)) {
    value.forEach((row: RfcStructure | RfcScalar, i: number) => {
      if (row === null || row === undefined) throw new TypeError(`RFC parameter ${where}[${i}] is empty.`)
      writeValue(out, 'item', row, `${where}[${i}]`, depth + 1)
    })
  } else if (typeof value === 'object') {
    for (const [field, fieldValue] of Object.entries(value as RfcStructure)) {
      writeValue(out, encodeAbapName(field, `Field of ${where}`), fieldValue, `${where}.${field}`, depth + 1)
    }
  } else {
    throw new TypeError(`RFC parameter ${where} has unsupported type ${typeof value}.`)
  }
  out.push(`</${tag}>`)
}

/**
 * The SOAP 1.1 envelope calling `functionModule` with the given importing/changing/tables parameters.
 * @throws TypeError for invalid names, non-finite numbers or characters XML cannot carry.
 * @example buildRfcEnvelope('STFC_CONNECTION', { REQUTEXT: 'hello' })
 */
export function buildRfcEnvelope(
  functionModule: string,
  parameters: Readonly<Record<string, RfcValue>>,
): string {
  const fm = encodeAbapName(functionModule, 'Function module')
  const out: string[] = [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<soap-env:Envelope xmlns:soap-env="${SOAP_ENV}"><soap-env:Body>`,
    `<urn:${fm} xmlns:urn="${RFC_NAMESPACE}">`,
  ]
  for (const [name, value] of Object.entries(parameters)) {
    writeValue(out, encodeAbapName(name, 'RFC parameter'), value, name, 0)
  }
  out.push(`</urn:${fm}></soap-env:Body></soap-env:Envelope>`)
  return out.join('')
}
