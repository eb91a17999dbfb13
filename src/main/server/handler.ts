// What the HTTP/WebSocket door needs from the engine side: the contract's request/on pair, and how serve creates it.
import type { FilehaulApi } from '../../shared/contract.ts';
import type { ServiceOptions } from '../service.ts';

/**
 * The contract as the server calls it. The lead's controller (src/main/controller.ts) implements it over the
 * engine; tests use an in-memory stub. Args reach it already validated by src/shared/validate.ts.
 * It may throw ContractError for a request that is well-formed but refused (unknown id…): the caller sees a 400.
 */
export type ContractHandler = FilehaulApi;

export interface ControllerOptions extends ServiceOptions {
  /** The built-in demo origin is in use: settings report demo: true so the UI labels everything as sample data. */
  demo: boolean;
}

/** Opens the engine, catalog and archive behind the contract; close() pauses downloads and closes the catalog. */
export type ControllerFactory = (options: ControllerOptions) => Promise<ContractHandler & { close(): Promise<void> }>;
