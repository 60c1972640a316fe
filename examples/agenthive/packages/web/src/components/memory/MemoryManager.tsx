import { useState } from 'react'

// Search box and result list over the system API's memory index.
export function MemoryManager() {
  const [query, setQuery] = useState('')
  const [results, setResults] = useState<{ id: string; text: string }[]>([])

  async function search() {
    const res = await fetch(`/api/smart-memory-index/search?q=${encodeURIComponent(query)}`)
    setResults(await res.json())
  }

  return (
    <div>
      <input value={query} onChange={(e) => setQuery(e.target.value)} />
      <button onClick={search}>Search</button>
      <ul>{results.map((r) => <li key={r.id}>{r.text}</li>)}</ul>
    </div>
  )
}

export default MemoryManager
