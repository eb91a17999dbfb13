// Renderer entry: picks the door to the engine, wires the stores to it, then mounts the React tree into #root.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { connectStores } from './state/connect.ts';

const root = document.getElementById('root');
if (!root) throw new Error('index.html is missing #root');

connectStores();

createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
