/**
 * Parses SAP SOAP-RFC responses with fast-xml-parser: the `<FM>Response` element becomes one flat
 * object of exporting, changing and tables parameters; SOAP faults become an RfcError.
 *
 * Values stay strings exactly as ABAP sent them (NUMC `0000004711` keeps its zeros); an element
 * whose children are `<item>` rows is an array (one row is an array of one); an empty element is ''.
 */
import type { XMLParser } from 'fast-xml-parser'
import { type RfcAbapMessage, RfcError } from './rfc-error'
import { decodeAbapName, encodeAbapName } from './soap-envelope'

/** A value read back from ABAP: text, a structure, or a table (array of rows). */
export type RfcResultValue = string | RfcResultStructure | RfcResultValue[]
export interface RfcResultStructure {
  [field: string]: RfcResultValue
}
/** The flat result of a call: exporting, changing and tables parameters by name. */
export type RfcResult = Record<string, RfcResultValue>

let parser: XMLParser | undefined

// Loaded on first use: apps that never call SOAP-RFC do not pay for the XML parser at startup.
function xmlParser(): XMLParser {
  if (parser) return parser
  const { XMLParser: Parser } = require('fast-xml-parser') as typeof import('fast-xml-parser')
  // preserveOrder keeps text and child elements apart, so leaf text is returned untouched
  // (trimValues off) while indentation between child elements can be told apart and dropped.
  parser = new Parser({
    preserveOrder: true,
    ignoreAttributes: true,
    removeNSPrefix: true,
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    processEntities: true,
    // Decodes numeric character references (&#13; &#x41;); SAP escapes CR and non-ASCII that way.
    htmlEntities: true,
    ignoreDeclaration: true,
    ignorePiTags: true,
    commentPropName: false,
  })
  return parser
}

type Node = Record<string, unknown>

function tagOf(node: Node): string | undefined {
  for (const key of Object.keys(node)) if (key !== '#text' && key !== ':@') return key
  return undefined
}

function childrenOf(node: Node, tag: string): Node[] {
  const value = node[tag]
  return Array.isArray(value) ? (value as Node[]) : []
}

function elements(children: Node[]): { tag: string; node: Node }[] {
  const out: { tag: string; node: Node }[] = []
  for (const child of children) {
    const tag = tagOf(child)
    if (tag !== undefined) out.push({ tag, node: child })
  }
  return out
}

function textOf(children: Node[]): string {
  let text = ''
  for (const child of children) if (typeof child['#text'] === 'string') text += child['#text']
  return text
}

function find(children: Node[], tag: string): Node[] | undefined {
  for (const el of elements(children)) if (el.tag === tag) return childrenOf(el.node, tag)
  return undefined
}

function toValue(children: Node[], isTable: boolean, depth: number): RfcResultValue {
  if (depth > 32) throw new RfcError('RFC_FAILED', 'SOAP-RFC response is nested deeper than 32 levels.')
  const els = elements(children)
  if (els.length === 0) return isTable ? [] : textOf(children)
  if (isTable || els.every((e) => e.tag === 'item')) {
    return els.map((e) => toValue(childrenOf(e.node, e.tag), false, depth + 1))
  }
  const struct: RfcResultStructure = {}
  for (const e of els) struct[decodeAbapName(e.tag)] = toValue(childrenOf(e.node, e.tag), false, depth + 1)
  return struct
}

function optionalText(children: Node[] | undefined, tag: string): string | undefined {
  const c = children && find(children, tag)
  return c === undefined ? undefined : textOf(c)
}

function faultError(fault: Node[], functionModule: string, where: string): RfcError {
  const faultString = optionalText(fault, 'faultstring') ?? ''
  const faultCode = optionalText(fault, 'faultcode') ?? ''
  const detail = find(fault, 'detail')
  // SAP puts the ABAP exception in <detail><FM.Exception><Name/><Text/><Message>…</Message></…>.
  const exception = detail && elements(detail).find((e) => e.tag.endsWith('.Exception'))
  const exc = exception ? childrenOf(exception.node, exception.tag) : undefined
  const key = optionalText(exc, 'Name')
  const text = optionalText(exc, 'Text')
  const msg = exc && find(exc, 'Message')
  let abapMessage: RfcAbapMessage | undefined
  if (msg) {
    const m: Record<string, string> = {}
    for (const [from, to] of [
      ['ID', 'id'],
      ['Type', 'type'],
      ['Number', 'number'],
      ['V1', 'v1'],
      ['V2', 'v2'],
      ['V3', 'v3'],
      ['V4', 'v4'],
    ]) {
      const v = optionalText(msg, from as string)
      if (v !== undefined) m[to as string] = v
    }
    abapMessage = m
  }
  if (key) {
    const message = text || faultString || key
    return new RfcError('RFC_ABAP_EXCEPTION', message, {
      key,
      ...(abapMessage ? { abapMessage } : {}),
      details: { functionModule, destination: where },
    })
  }
  return new RfcError(
    'RFC_FAILED',
    `SOAP-RFC call of ${functionModule} on ${where} failed: ${faultCode ? `${faultCode}: ` : ''}${faultString || 'SOAP fault without text'}.`,
    { details: { functionModule, destination: where, faultCode } },
  )
}

export interface ParseOptions {
  /** Result parameters to read as tables even when empty (arrays sent in the request are added automatically). */
  readonly tables?: Iterable<string>
  /** Destination name for messages. */
  readonly destinationName?: string
}

/**
 * Parses a SOAP-RFC response body. Resolves the call's result, or throws the fault as RfcError.
 * @throws RfcError `RFC_ABAP_EXCEPTION` (with `key`) for ABAP exceptions, `RFC_FAILED` for other faults or
 *   a body that is not the expected SOAP response.
 */
export function parseRfcResponse(xml: string, functionModule: string, options: ParseOptions = {}): RfcResult {
  const where = options.destinationName ? `destination "${options.destinationName}"` : 'the ABAP system'
  const bad = (why: string) =>
    new RfcError(
      'RFC_FAILED',
      `SOAP-RFC response of ${functionModule} from ${where} is not usable: ${why}.`,
      {
        details: { functionModule },
      },
    )
  // SOAP 1.1 forbids a DTD; refusing it also rules out entity-expansion tricks.
  if (/<!DOCTYPE/i.test(xml)) throw bad('it contains a DOCTYPE')
  let doc: Node[]
  try {
    doc = xmlParser().parse(xml) as Node[]
  } catch (err) {
    throw new RfcError('RFC_FAILED', `SOAP-RFC response of ${functionModule} from ${where} is not XML.`, {
      cause: err,
    })
  }
  const envelope = find(doc, 'Envelope')
  const body = envelope && find(envelope, 'Body')
  if (!body) throw bad('no SOAP Envelope/Body')
  const fault = find(body, 'Fault')
  if (fault) throw faultError(fault, functionModule, where)
  const responseTag = `${encodeAbapName(functionModule, 'Function module')}Response`
  const response = find(body, responseTag)
  if (!response) throw bad(`no <${responseTag}> element`)
  const tables = new Set<string>()
  for (const t of options.tables ?? []) tables.add(t.toUpperCase())
  const result: RfcResult = {}
  for (const e of elements(response)) {
    const name = decodeAbapName(e.tag)
    result[name] = toValue(childrenOf(e.node, e.tag), tables.has(name), 0)
  }
  return result
}
