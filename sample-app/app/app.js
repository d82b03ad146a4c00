// Sample page: top orders per currency and the connectivity path status. Plain JS, no CDN, offline.
const CURRENCIES = ['AED', 'USD', 'EUR']
const TOP = 5
const $ = (id) => document.getElementById(id)

function text(el, value, cls) {
  el.textContent = value
  el.className = cls || ''
}

async function getJson(url) {
  // Resolve against the origin, not the document URL: a page opened as http://user:@host/ would
  // otherwise make fetch refuse every relative URL (it carries the credentials along).
  const res = await fetch(new URL(url, location.origin + location.pathname), {
    headers: { accept: 'application/json' },
    credentials: 'same-origin',
  })
  const body = await res.json().catch(() => ({}))
  if (!res.ok) throw new Error(body?.error?.message || `${res.status} ${res.statusText}`)
  return body
}

function renderCurrency(currency, rows, error) {
  const card = document.createElement('section')
  card.className = 'card'
  card.id = `cur-${currency}`
  const h = document.createElement('h3')
  h.textContent = `Top ${TOP} in ${currency}`
  card.append(h)
  if (error) {
    const p = document.createElement('p')
    p.className = 'error'
    p.textContent = error
    card.append(p)
    return card
  }
  const table = document.createElement('table')
  table.innerHTML = `<thead><tr><th>Order</th><th>Sold-to</th><th>Created</th><th class="num">Net (${currency})</th></tr></thead>`
  const body = document.createElement('tbody')
  for (const r of rows) {
    const tr = document.createElement('tr')
    tr.dataset.currency = r.TransactionCurrency
    for (const [value, cls] of [
      [r.SalesOrder],
      [r.SoldToParty],
      [r.CreationDate],
      [Number(r.TotalNetAmount).toLocaleString('en', { minimumFractionDigits: 2 }), 'num'],
    ]) {
      const td = document.createElement('td')
      td.textContent = value
      if (cls) td.className = cls
      tr.append(td)
    }
    body.append(tr)
  }
  table.append(body)
  card.append(table)
  return card
}

async function loadOrders() {
  const main = $('currencies')
  const cards = await Promise.all(
    CURRENCIES.map(async (c) => {
      try {
        const data = await getJson(`odata/v4/sales/getTopOrders(top=${TOP},currency='${c}')`)
        return renderCurrency(c, data.value || [])
      } catch (err) {
        return renderCurrency(c, [], String(err.message || err))
      }
    }),
  )
  main.replaceChildren(...cards)
}

async function loadStatus() {
  try {
    const s = await getJson('connectivity/status')
    const d = s.destination
    if (!d) text($('st-agent'), 'no destination configured')
    else if (d.route !== 'tunnel') text($('st-agent'), `not used (route: ${d.route || 'unknown'})`)
    else if (d.reachable) text($('st-agent'), 'connected', 'ok')
    else text($('st-agent'), `not connected${d.errorCode ? ` (${d.errorCode})` : ''}`, 'bad')
    text($('st-location'), d?.location ? d.location : '(default)')
    const svc = s.services.map((x) => `${x.name} → ${x.destination}`).join(', ')
    text(
      $('st-route'),
      d
        ? `${svc || d.name} via ${d.route || '…'}${d.reachable ? ` (${d.ms} ms to connect)` : ''}`
        : svc || '—',
    )
    text($('st-requests'), `${s.requestsServed}${s.failures ? ` (${s.failures} failed)` : ''}`)
    text($('st-user'), s.user || '—')
    text($('st-error'), s.lastError || 'none', s.lastError ? 'bad' : '')
  } catch (err) {
    text($('st-agent'), `status unavailable: ${err.message}`, 'bad')
  }
}

async function main() {
  await loadOrders()
  // Status after the orders, so "requests served" includes them.
  await loadStatus()
  document.body.dataset.loaded = 'true'
  setInterval(loadStatus, 5000)
}

main()
