/**
 * The error of an RFC call: an ABAP exception raised by the function module (`RFC_ABAP_EXCEPTION`,
 * with its exception `key`), or a failure of the call itself (`RFC_FAILED`, `RFC_DRIVER_MISSING`).
 */
import { ConnectivityError, type ConnectivityErrorOptions } from '../errors'

export type RfcErrorCode = 'RFC_ABAP_EXCEPTION' | 'RFC_FAILED' | 'RFC_DRIVER_MISSING'

export interface RfcErrorOptions extends ConnectivityErrorOptions {
  /** The ABAP exception key (e.g. `TABLE_NOT_AVAILABLE`), for `RFC_ABAP_EXCEPTION`. */
  key?: string
  /** The ABAP message (class, type, number, variables) the exception carried, when the system sent one. */
  abapMessage?: RfcAbapMessage
}

/** The T100 message attached to an ABAP exception (`MESSAGE ... RAISING`). */
export interface RfcAbapMessage {
  readonly id?: string
  readonly type?: string
  readonly number?: string
  readonly v1?: string
  readonly v2?: string
  readonly v3?: string
  readonly v4?: string
}

/**
 * An RFC call failed. For ABAP exceptions `code` is `RFC_ABAP_EXCEPTION`, `key` the exception key and
 * `message` its text, so callers can branch on `err.key` exactly as ABAP code branches on `EXCEPTIONS`.
 * @example
 * try { await rfc.call('ERP', 'RFC_READ_TABLE', { QUERY_TABLE: 'ZNOPE' }) }
 * catch (err) { if (err instanceof RfcError && err.key === 'TABLE_NOT_AVAILABLE') … }
 */
export class RfcError extends ConnectivityError {
  override readonly code: RfcErrorCode
  readonly key: string | undefined
  readonly abapMessage: RfcAbapMessage | undefined

  constructor(code: RfcErrorCode, message: string, options: RfcErrorOptions = {}) {
    const { key, abapMessage, ...base } = options
    super(code, message, { ...base, details: { ...base.details, ...(key === undefined ? {} : { key }) } })
    this.code = code
    this.key = key
    this.abapMessage = abapMessage
  }
}
