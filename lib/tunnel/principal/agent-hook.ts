/**
 * The agent's HTTP hook for principal propagation: runs after the allowlist check, verifies the
 * user JWT carried on the stream and puts the user into a header or a client certificate.
 */
import { dirname } from 'node:path'
import { ConnectivityError } from '../../errors'
import { PrincipalPropagator, parsePrincipalPropagation, type PrincipalPropagationConfig } from './propagate'
import { parseTrust, type TrustConfig } from './trust'

/** The parts of the tunnel agent's HTTP hook context this hook reads and writes. */
export interface PrincipalHookContext {
  readonly mapping: { readonly raw?: Readonly<Record<string, unknown>> }
  readonly config: { readonly raw?: Readonly<Record<string, unknown>>; readonly path?: string }
  readonly principal: string | undefined
  readonly headers: Record<string, string | string[]>
  tls: { cert?: string | Buffer; key?: string | Buffer } | undefined
}

export interface PrincipalHookOptions {
  /** Where relative `caCert`/`caKey` paths resolve; default the directory of agent.json, else the cwd. */
  readonly baseDir?: string
}

const IDENTITY_HEADERS = ['ssl_client_cert', 'ssl-client-cert']

/**
 * Creates the hook. Configuration objects are parsed once per agent.json (re)load.
 * @example new TunnelAgent({ server, token, config: 'agent.json', httpHooks: [createPrincipalHook()] })
 * @throws (from the hook) AuthError `TOKEN_MISSING`/`TOKEN_INVALID`, ConnectivityError `ACCESS_DENIED` or `CONFIG_INVALID`.
 */
export function createPrincipalHook(
  options: PrincipalHookOptions = {},
): (ctx: PrincipalHookContext) => Promise<void> {
  const propagators = new WeakMap<object, PrincipalPropagator>()
  const configs = new WeakMap<object, PrincipalPropagationConfig | null>()

  const propagatorFor = (config: PrincipalHookContext['config']): PrincipalPropagator => {
    let p = propagators.get(config)
    if (p === undefined) {
      const raw = config.raw?.trust
      const trust: TrustConfig | undefined =
        raw === undefined ? undefined : parseTrust(raw, 'agent.json trust')
      p = new PrincipalPropagator(trust === undefined ? {} : { trust })
      propagators.set(config, p)
    }
    return p
  }

  return async (ctx) => {
    // A caller must never be able to claim an identity the backend trusts from the agent.
    for (const name of Object.keys(ctx.headers)) {
      if (IDENTITY_HEADERS.includes(name.toLowerCase())) delete ctx.headers[name]
    }
    const mapping = ctx.mapping
    let pp = configs.get(mapping)
    if (pp === undefined) {
      const raw = mapping.raw?.principalPropagation
      const baseDir =
        options.baseDir ?? (ctx.config.path === undefined ? process.cwd() : dirname(ctx.config.path))
      pp = raw === undefined ? null : parsePrincipalPropagation(raw, 'mapping principalPropagation', baseDir)
      configs.set(mapping, pp)
    }
    if (pp === null) return
    if (pp.mode === 'header') {
      for (const name of Object.keys(ctx.headers)) {
        if (name.toLowerCase() === pp.header.toLowerCase()) delete ctx.headers[name]
      }
    }
    const result = await propagatorFor(ctx.config).propagate(pp, ctx.principal)
    Object.assign(ctx.headers, result.headers)
    if (result.tls !== undefined) {
      if (mapping.raw?.internalProtocol !== 'https') {
        throw new ConnectivityError(
          'CONFIG_INVALID',
          'principalPropagation.as "mtls" needs internalProtocol "https"',
        )
      }
      ctx.tls = { ...(ctx.tls ?? {}), cert: result.tls.cert, key: result.tls.key }
    }
  }
}
