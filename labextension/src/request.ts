/**
 * Calls to the server extension's endpoints under `{base_url}/readiness/`.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { IFinding, INotebookReport, IRuleDoc } from './model';

/** A failed call, with the server's message and the HTTP status (0 when unreachable). */
export class ReadinessRequestError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
  }
}

/** What the user reads when the endpoints are missing altogether. */
export const UNREACHABLE_MESSAGE =
  'The readiness server extension is not reachable. Install readiness-magics in the ' +
  'environment that runs Jupyter and restart it (`jupyter server extension list` should ' +
  'show readiness_magics enabled).';

/** Call one endpoint and return its JSON answer. */
export async function requestAPI<T>(
  endPoint: string,
  init: RequestInit = {}
): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'readiness', endPoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ReadinessRequestError(UNREACHABLE_MESSAGE, 0);
  }
  const text = await response.text();
  let data: any = null;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch (error) {
      data = null;
    }
  }
  if (!response.ok) {
    if (response.status === 404 && (!data || !data.message)) {
      throw new ReadinessRequestError(UNREACHABLE_MESSAGE, 404);
    }
    const message =
      (data && (data.message || data.reason)) ||
      `${response.status} ${response.statusText}`;
    throw new ReadinessRequestError(message, response.status);
  }
  return data as T;
}

/** Check a notebook: the saved file when `content` is omitted, else that unsaved JSON. */
export function checkNotebook(
  path: string,
  content?: unknown,
  useRuff = true
): Promise<INotebookReport> {
  const body: { [key: string]: unknown } = { path, ruff: useRuff };
  if (content !== undefined) {
    body.content = content;
  }
  return requestAPI<INotebookReport>('check', {
    method: 'POST',
    body: JSON.stringify(body)
  });
}

/** The rules with their docs. */
export async function fetchRules(): Promise<IRuleDoc[]> {
  const data = await requestAPI<{ rules: IRuleDoc[] }>('rules', { method: 'GET' });
  return data.rules;
}

/** What `POST /readiness/export` answers. */
export interface IExportResult {
  /** "written", or "refused" when findings at the fail level block the export. */
  status: 'written' | 'refused';
  message: string;
  /** The package folder, relative to the server root. */
  output_dir: string;
  files: string[];
  blocking: IFinding[];
  [key: string]: unknown;
}

/**
 * Export a notebook as a package, into `outputDir`/<name> (beside the notebook by default);
 * `force` exports past blocking findings and replaces an earlier export.
 */
export function exportNotebook(
  path: string,
  options: { outputDir?: string; name?: string; force?: boolean } = {}
): Promise<IExportResult> {
  return requestAPI<IExportResult>('export', {
    method: 'POST',
    body: JSON.stringify({
      path,
      output_dir: options.outputDir,
      name: options.name,
      force: options.force || false
    })
  });
}
