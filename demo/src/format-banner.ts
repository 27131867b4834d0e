/** What the demo tells the user once everything runs. */
export interface BannerInfo {
  demoUrl: string;
  apiUrl: string;
  apiKey: string;
  project: string;
  appId: string;
  modelLabel: string;
  scripted: boolean;
  dataDir: string;
  stateFile: string;
  logDir: string;
  reused: boolean;
}

/** The "it runs" message: URLs, the API key, and what to try. Labels are stable (tests read them). */
export function formatBanner(info: BannerInfo): string {
  const modelHint = info.scripted
    ? `${info.modelLabel} (offline demo model; set ANTHROPIC_API_KEY, OPENAI_API_KEY, or CONCIERGE_MODEL + CONCIERGE_LLM_BASE_URL for a real one)`
    : info.modelLabel;
  return [
    '',
    'Concierge demo is running.',
    '',
    `  Demo page:  ${info.demoUrl}`,
    `  API:        ${info.apiUrl}`,
    `  Health:     ${info.apiUrl}/healthz`,
    `  API key:    ${info.apiKey}  (project "${info.project}"${info.reused ? ', from an earlier run' : ', new'})`,
    `  Widget app: ${info.appId}`,
    `  Model:      ${modelHint}`,
    `  Data:       ${info.dataDir}  (credentials in ${info.stateFile})`,
    `  Logs:       ${info.logDir}`,
    '',
    '  Open the demo page, click the chat button and try: "run `date`" (asks for your approval),',
    '  "write a report" (a file to download), or "help".',
    '',
    '  Try the API:',
    `    curl -s ${info.apiUrl}/api/v1/tasks -H "Authorization: Bearer ${info.apiKey}" -F "message=help"`,
    '',
    'Press Ctrl+C to stop.',
    '',
  ].join('\n');
}
