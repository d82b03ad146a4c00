import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readDestinationsDocument } from '../../lib/destination/sources/file'

describe('examples/destinations.json', () => {
  it('is valid and covers every destination type, including an OnPremise S/4', async () => {
    const doc = await readDestinationsDocument(join(__dirname, '..', '..', 'examples', 'destinations.json'))
    expect(new Set(doc.destinations.map((d) => d.type))).toEqual(
      new Set(['HTTP', 'RFC', 'TCP', 'LDAP', 'MAIL']),
    )
    expect(doc.destinations.find((d) => d.name === 'S4HANA_ONPREM')).toMatchObject({
      proxyType: 'OnPremise',
      authentication: 'PrincipalPropagation',
      locationId: 'FRANKFURT',
    })
  })
})
