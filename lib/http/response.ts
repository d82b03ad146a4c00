/**
 * HttpResponse implementation over a Node Readable fed by the dispatch handler.
 */
import type { Readable } from 'node:stream'
import { TransportError } from '../errors'
import type { HttpResponse } from './types'

/** Upper bound for text()/json()/arrayBuffer(): larger bodies must be streamed through `body`. */
const MAX_BUFFERED = 64 * 1024 * 1024

export class Response implements HttpResponse {
  readonly status: number
  readonly statusText: string
  readonly headers: Readonly<Record<string, string | string[]>>
  readonly body: Readable
  #used = false

  constructor(
    status: number,
    statusText: string,
    headers: Record<string, string | string[]>,
    body: Readable,
  ) {
    this.status = status
    this.statusText = statusText
    this.headers = headers
    this.body = body
  }

  #bytes(): Promise<Buffer> {
    if (this.#used) return Promise.reject(new TypeError('The response body was already consumed'))
    this.#used = true
    // Plain events instead of an async iterator: this is the hot path of every buffered response.
    return new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = []
      let size = 0
      const body = this.body
      body.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > MAX_BUFFERED) {
          body.destroy(
            new TransportError(
              'HTTP_ERROR',
              `Response body exceeds ${MAX_BUFFERED} bytes; read it from response.body as a stream.`,
              {
                details: { requestSent: true, status: this.status },
              },
            ),
          )
          return
        }
        chunks.push(chunk)
      })
      body.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)))
      body.once('error', reject)
    })
  }

  async text(): Promise<string> {
    return (await this.#bytes()).toString('utf8')
  }

  async json<T = unknown>(): Promise<T> {
    const text = await this.text()
    try {
      return JSON.parse(text) as T
    } catch (cause) {
      throw new TransportError('HTTP_ERROR', `Response (status ${this.status}) is not valid JSON.`, {
        cause,
        details: { requestSent: true, status: this.status },
      })
    }
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = await this.#bytes()
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer
  }
}
