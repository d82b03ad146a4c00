/**
 * In-place XOR with a WebSocket masking key, starting `offset` bytes into the masked payload (a
 * payload arrives in several socket reads). Uses the optional native `bufferutil`, as ws does.
 */
import { createRequire } from 'node:module'

type MaskFn = (source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number) => void

let native: MaskFn | null | undefined
function nativeMask(): MaskFn | null {
  if (native !== undefined) return native
  try {
    native = (createRequire(__filename)('bufferutil') as { mask: MaskFn }).mask
  } catch {
    native = null
  }
  return native
}

const rotated = Buffer.alloc(4)

export function unmaskInPlace(buf: Buffer, key: Buffer, offset: number): void {
  if (((key[0] as number) | (key[1] as number) | (key[2] as number) | (key[3] as number)) === 0) return
  const shift = offset & 3
  for (let i = 0; i < 4; i++) rotated[i] = key[(i + shift) & 3] as number
  const fn = buf.length >= 64 ? nativeMask() : null
  if (fn) {
    fn(buf, rotated, buf, 0, buf.length)
    return
  }
  for (let i = 0; i < buf.length; i++) buf[i] = (buf[i] as number) ^ (rotated[i & 3] as number)
}
