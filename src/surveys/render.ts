import type { Answer, LocalText, Question, RatingQuestion, SurveyDefinition } from './types.js';
import { formatUiNumber, type UiText, uiLanguage, uiText } from './ui-text.js';

/**
 * What a respondent reads, as strings for the server to send: the survey pages, the invitation and
 * reminder e-mails, and the SMS/voice text.
 *
 * The pages are complete HTML documents: one question per page, a plain form that
 * posts back to the server, no script, no external resource. Every text from the survey
 * definition, the respondent or the caller is escaped here; callers pass plain text.
 *
 * Form contract (what the server receives, `application/x-www-form-urlencoded`):
 * - `question`: the id of the question shown;
 * - `answer`: the score, the chosen value, each chosen value (repeated), or the text;
 * - `skip=1`: only when the respondent pressed "Skip" on an optional question;
 * - the caller's `hiddenFields` (e.g. a CSRF token), unchanged.
 */

/** The colours of the pages and e-mails; render.test.ts checks their WCAG contrast. */
export const COLORS = {
  text: '#1a1a1a',
  background: '#ffffff',
  muted: '#4b5563',
  accent: '#1d4ed8',
  onAccent: '#ffffff',
  accentLight: '#eff6ff',
  border: '#6b7280',
  error: '#b91c1c',
  errorBackground: '#fef2f2',
  frame: '#f3f4f6',
} as const;

const C = COLORS;

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML content and quoted attribute values. */
export const escapeHtml = (value: string | number): string =>
  String(value).replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);

/** Escaped text with its line breaks kept (for phrasing content: headings, labels). */
const lineHtml = (text: string): string => escapeHtml(text.trim()).replace(/\r?\n/g, '<br>');

/** Escaped text as paragraphs: a blank line separates paragraphs, a line break is kept. */
const paragraphsHtml = (text: string, attributes = ''): string =>
  text
    .split(/(?:\r?\n\s*){2,}/)
    .map((paragraph) => paragraph.trim())
    .filter((paragraph) => paragraph !== '')
    .map((paragraph) => `<p${attributes}>${lineHtml(paragraph)}</p>`)
    .join('');

const primarySubtag = (language: string) => language.trim().toLowerCase().split(/[-_]/)[0] ?? '';
const sameTag = (a: string, b: string) =>
  a.toLowerCase().replace(/_/g, '-') === b.toLowerCase().replace(/_/g, '-');

/**
 * The survey language to show for a requested language (a customer's locale): the same tag, else
 * one with the same primary subtag (the bare one first: "de-AT" → "de" before "de-CH"), else the
 * survey's default (its first language).
 */
export const surveyLanguage = (definition: Pick<SurveyDefinition, 'languages'>, language: string): string => {
  const { languages } = definition;
  const exact = languages.find((candidate) => sameTag(candidate, language));
  if (exact !== undefined) return exact;
  const primary = primarySubtag(language);
  const bare = languages.find((candidate) => sameTag(candidate, primary));
  if (bare !== undefined) return bare;
  const related = languages.find((candidate) => primarySubtag(candidate) === primary);
  return related ?? languages[0] ?? 'en';
};

/** What a survey's texts are shown in: its language, the UI words, and a text picker. */
export interface Localized {
  /** The survey language shown (one of `definition.languages`). */
  language: string;
  ui: UiText;
  /** A text in that language, else in the default language, else any; '' for none. */
  text: (text: LocalText | undefined) => string;
}

export const localize = (definition: SurveyDefinition, requested: string): Localized => {
  const language = surveyLanguage(definition, requested);
  const fallback = definition.languages[0];
  return {
    language,
    ui: uiText(language),
    text: (text) => {
      if (text === undefined) return '';
      return (
        text[language] ??
        (fallback === undefined ? undefined : text[fallback]) ??
        Object.values(text)[0] ??
        ''
      );
    },
  };
};

const BASE_CSS =
  `*{box-sizing:border-box}` +
  `body{margin:0;background:${C.background};color:${C.text};font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;-webkit-text-size-adjust:100%}` +
  `main{max-width:40rem;margin:0 auto;padding:1.25rem .75rem 2.5rem}` +
  `h1{font-size:1.25rem;line-height:1.35;margin:0 0 .75rem}` +
  `p{margin:0 0 1rem}` +
  `.m{color:${C.muted}}` +
  `h1 .m{font-size:1rem;font-weight:400}` +
  `.err{color:${C.error};background:${C.errorBackground};border-left:4px solid ${C.error};padding:.5rem .75rem;font-weight:600}`;

const FORM_CSS =
  `progress{display:block;width:100%;height:.5rem;margin:-.5rem 0 1.5rem;accent-color:${C.accent}}` +
  `.i{border-bottom:1px solid ${C.border};margin-bottom:1.5rem}` +
  `fieldset{border:0;margin:0 0 1.5rem;padding:0;min-width:0}` +
  `legend{padding:0;width:100%}` +
  `.s{display:grid;gap:.375rem}` +
  `.c{position:relative}` +
  `.c input{position:absolute;inset:0;width:100%;height:100%;margin:0;opacity:0;cursor:pointer}` +
  `.c label{display:flex;align-items:center;justify-content:center;min-height:2.75rem;border:1px solid ${C.border};border-radius:.375rem;font-weight:600;font-size:1.125rem}` +
  `.c input:hover+label{background:${C.accentLight}}` +
  `.c input:checked+label{background:${C.accent};border-color:${C.accent};color:${C.onAccent}}` +
  `.c input:focus-visible+label,.o input:focus-visible,textarea:focus-visible,button:focus-visible{outline:3px solid ${C.accent};outline-offset:2px}` +
  `@media(forced-colors:active){.c input:checked+label{forced-color-adjust:none;background:Highlight;color:HighlightText}}` +
  `.e{display:flex;justify-content:space-between;gap:1rem;margin-top:.375rem;font-size:.875rem}` +
  `.e span:last-child{margin-left:auto;text-align:right}` +
  `.o{display:flex;align-items:center;gap:.75rem;border:1px solid ${C.border};border-radius:.375rem;padding:0 .75rem;margin-bottom:.5rem}` +
  `.o:has(input:checked){border-color:${C.accent};background:${C.accentLight}}` +
  `.o input{flex:none;width:1.25rem;height:1.25rem;margin:0;accent-color:${C.accent}}` +
  `.o label{flex:1;padding:.625rem 0;cursor:pointer}` +
  `textarea{display:block;width:100%;margin-bottom:1.5rem;padding:.5rem;font:inherit;color:inherit;background:${C.background};border:1px solid ${C.border};border-radius:.375rem}` +
  `[aria-invalid=true] .c label,[aria-invalid=true] .o,textarea[aria-invalid=true]{border-color:${C.error}}` +
  `.b{display:flex;flex-wrap:wrap;gap:.75rem}` +
  `button{min-height:2.75rem;padding:.5rem 1.5rem;font:inherit;font-weight:600;color:${C.onAccent};background:${C.accent};border:2px solid ${C.accent};border-radius:.375rem;cursor:pointer}` +
  `button[name=skip]{color:${C.accent};background:${C.background}}`;

/** Grid columns for a rating scale: all on one row, in two rows on a phone when more than six. */
const scaleCss = (points: number) =>
  `.s{grid-template-columns:repeat(${points},1fr)}` +
  (points > 6
    ? `@media(max-width:36rem){.s{grid-template-columns:repeat(${Math.ceil(points / 2)},1fr)}}`
    : '');

const htmlDocument = (language: string, title: string, css: string, main: string) =>
  '<!doctype html>' +
  `<html lang="${escapeHtml(language)}"><head><meta charset="utf-8">` +
  '<meta name="viewport" content="width=device-width,initial-scale=1">' +
  '<meta name="robots" content="noindex,nofollow">' +
  `<title>${escapeHtml(title)}</title><style>${css}</style></head>` +
  `<body><main>${main}</main></body></html>`;

const attribute = (name: string, value: string | undefined) =>
  value === undefined || value === '' ? '' : ` ${name}="${escapeHtml(value)}"`;
const flag = (name: string, on: boolean) => (on ? ` ${name}` : '');
const ids = (...candidates: (string | false)[]) =>
  candidates.filter((id) => id !== false).join(' ') || undefined;

const isRequired = (question: Question) => question.required ?? question.type !== 'text';
const answerValues = (answer: Answer | undefined): string[] =>
  answer === undefined ? [] : Array.isArray(answer) ? answer.map(String) : [String(answer)];

/** Form fields the page writes itself; hidden fields must not shadow them. */
const RESERVED_FIELDS = new Set(['question', 'answer', 'skip']);

export interface QuestionPageInput {
  definition: SurveyDefinition;
  /** The respondent's language (any tag); the closest survey language is shown. */
  language: string;
  questionId: string;
  /** 1-based position of the question on the respondent's expected path. */
  position: number;
  /** Questions on the respondent's expected path. */
  total: number;
  /** Where the form posts. */
  actionUrl: string;
  /** The answer given before, pre-selected or pre-filled. */
  previous?: Answer;
  /** A message about the answer sent (e.g. `uiText(language).required`), shown with the question. */
  error?: string;
  /** Show the survey's intro above the question (the first page). */
  showIntro?: boolean;
  /** Extra hidden form fields, sent back unchanged; not `question`, `answer` or `skip`. */
  hiddenFields?: Record<string, string>;
}

interface QuestionParts {
  question: Question;
  local: Localized;
  previous: string[];
  describedBy: string | undefined;
  invalid: boolean;
  /** Help, hint and error paragraphs, in reading order. */
  notes: string;
  /** The question text as a heading, with the optional marker. */
  heading: string;
}

const ratingHtml = ({ question, local, previous, describedBy, invalid, notes, heading }: QuestionParts) => {
  if (question.type !== 'rating') return '';
  const rating: RatingQuestion = question;
  const low = local.text(rating.lowLabel);
  const high = local.text(rating.highLabel);
  const required = isRequired(rating);
  let scale = '';
  for (let score = rating.min; score <= rating.max; score++) {
    const id = `a${score}`;
    const end =
      score === rating.min && low !== '' ? 'a-low' : score === rating.max && high !== '' ? 'a-high' : '';
    scale +=
      `<div class="c"><input type="radio" name="answer" id="${id}" value="${score}"` +
      `${attribute('aria-describedby', end)}${flag('checked', previous.includes(String(score)))}` +
      `${flag('required', required && score === rating.min)}><label for="${id}">${score}</label></div>`;
  }
  const ends =
    low === '' && high === ''
      ? ''
      : `<div class="e m">${low === '' ? '' : `<span id="a-low">${lineHtml(low)}</span>`}` +
        `${high === '' ? '' : `<span id="a-high">${lineHtml(high)}</span>`}</div>`;
  return (
    `<fieldset${attribute('aria-describedby', describedBy)}${flag('aria-invalid="true"', invalid)}>` +
    `<legend>${heading}</legend>${notes}<div class="s">${scale}</div>${ends}</fieldset>`
  );
};

const choiceHtml = ({ question, local, previous, describedBy, invalid, notes, heading }: QuestionParts) => {
  if (question.type !== 'single' && question.type !== 'multiple') return '';
  const type = question.type === 'single' ? 'radio' : 'checkbox';
  const required = question.type === 'single' && isRequired(question);
  const options = question.options
    .map(
      (option, index) =>
        `<div class="o"><input type="${type}" name="answer" id="a${index}" value="${escapeHtml(option.value)}"` +
        `${flag('checked', previous.includes(option.value))}${flag('required', required && index === 0)}>` +
        `<label for="a${index}">${lineHtml(local.text(option.label))}</label></div>`,
    )
    .join('');
  return (
    `<fieldset${attribute('aria-describedby', describedBy)}${flag('aria-invalid="true"', invalid)}>` +
    `<legend>${heading}</legend>${notes}${options}</fieldset>`
  );
};

/** Longest text answer when the question sets none. */
export const DEFAULT_TEXT_MAX_LENGTH = 5000;

const textHtml = ({ question, previous, describedBy, invalid, notes, heading }: QuestionParts) => {
  const maxLength =
    question.type === 'text' ? (question.maxLength ?? DEFAULT_TEXT_MAX_LENGTH) : DEFAULT_TEXT_MAX_LENGTH;
  // The parser drops one line break right after <textarea>: the one written here, not the answer's.
  return (
    `<div>${heading}${notes}<textarea id="answer" name="answer" rows="6" maxlength="${maxLength}"` +
    `${attribute('aria-describedby', describedBy)}${flag('aria-invalid="true"', invalid)}` +
    `${flag('required', isRequired(question))}>\n${escapeHtml(previous[0] ?? '')}</textarea></div>`
  );
};

/** A question of a survey as a complete HTML page with its form. */
export const renderQuestionPage = (input: QuestionPageInput): string => {
  const { definition, questionId, actionUrl, previous, error, showIntro = false, hiddenFields = {} } = input;
  const question = definition.questions.find((candidate) => candidate.id === questionId);
  if (question === undefined) throw new Error(`The survey has no question "${questionId}".`);
  const local = localize(definition, input.language);
  const { ui } = local;
  const total = Math.max(1, Math.trunc(input.total), Math.trunc(input.position));
  const position = Math.min(Math.max(1, Math.trunc(input.position)), total);
  const required = isRequired(question);

  const help = local.text(question.help);
  const hint =
    question.type === 'single'
      ? ui.chooseOne
      : question.type === 'multiple'
        ? ui.chooseAny
        : question.type === 'text'
          ? ui.maxLength(formatUiNumber(question.maxLength ?? DEFAULT_TEXT_MAX_LENGTH, local.language))
          : '';
  const hasError = error !== undefined && error !== '';
  const optional = required ? '' : ` <span class="m">(${escapeHtml(ui.optional)})</span>`;
  const text = lineHtml(local.text(question.text));
  const parts: QuestionParts = {
    question,
    local,
    previous: answerValues(previous),
    describedBy: ids(help !== '' && 'q-help', hint !== '' && 'q-hint', hasError && 'q-error'),
    invalid: hasError,
    notes:
      (help === '' ? '' : `<p class="m" id="q-help">${lineHtml(help)}</p>`) +
      (hint === '' ? '' : `<p class="m" id="q-hint">${escapeHtml(hint)}</p>`) +
      (hasError ? `<p class="err" id="q-error" role="alert">${lineHtml(error)}</p>` : ''),
    heading:
      question.type === 'text'
        ? `<h1><label for="answer">${text}${optional}</label></h1>`
        : `<h1>${text}${optional}</h1>`,
  };
  const field =
    question.type === 'rating'
      ? ratingHtml(parts)
      : question.type === 'text'
        ? textHtml(parts)
        : choiceHtml(parts);

  let hidden = `<input type="hidden" name="question" value="${escapeHtml(question.id)}">`;
  for (const [name, value] of Object.entries(hiddenFields)) {
    if (RESERVED_FIELDS.has(name)) throw new Error(`The hidden field "${name}" would shadow the page's own.`);
    hidden += `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;
  }
  const intro = showIntro ? local.text(definition.intro) : '';
  const buttons =
    `<div class="b"><button type="submit">${escapeHtml(position === total ? ui.submit : ui.next)}</button>` +
    (required
      ? ''
      : `<button type="submit" name="skip" value="1" formnovalidate>${escapeHtml(ui.skip)}</button>`) +
    '</div>';
  const main =
    `<p class="m" id="progress">${escapeHtml(ui.progress(position, total))}</p>` +
    `<progress max="${total}" value="${position}" aria-labelledby="progress">${position}/${total}</progress>` +
    (intro === '' ? '' : `<div class="i">${paragraphsHtml(intro)}</div>`) +
    `<form method="post" action="${escapeHtml(actionUrl)}">${hidden}${field}${buttons}</form>`;
  const css =
    BASE_CSS + FORM_CSS + (question.type === 'rating' ? scaleCss(question.max - question.min + 1) : '');
  return htmlDocument(local.language, definition.name, css, main);
};

/** The page after the last answer: the thank-you and the close-the-loop promise. */
export const renderEndPage = (input: { definition: SurveyDefinition; language: string }): string => {
  const { definition } = input;
  const local = localize(definition, input.language);
  const followUp = local.text(definition.followUp);
  const main = `<h1>${lineHtml(local.text(definition.thankYou))}</h1>${paragraphsHtml(followUp)}`;
  return htmlDocument(local.language, definition.name, BASE_CSS, main);
};

/**
 * A page with one message: an expired, used or unknown link, the opt-out confirmation. The texts
 * are the caller's, usually from `uiText(language)`; the page's language is that dictionary's.
 */
export const renderMessagePage = (input: {
  language: string;
  title: string;
  message: string;
  status?: 'info' | 'error';
}): string => {
  const { title, message, status = 'info' } = input;
  const body = paragraphsHtml(message, status === 'error' ? ' class="err"' : '');
  return htmlDocument(uiLanguage(input.language), title, BASE_CSS, `<h1>${lineHtml(title)}</h1>${body}`);
};

/**
 * The page behind the e-mail's opt-out link: a button that posts to `actionUrl`, so that link
 * checkers fetching the link opt nobody out. Confirm with `renderMessagePage` and `optedOut`.
 */
export const renderOptOutPage = (input: {
  language: string;
  actionUrl: string;
  hiddenFields?: Record<string, string>;
}): string => {
  const ui = uiText(input.language);
  const hidden = Object.entries(input.hiddenFields ?? {})
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  const main =
    `<h1>${escapeHtml(ui.optOut)}</h1><p>${escapeHtml(ui.optOutConfirm)}</p>` +
    `<form method="post" action="${escapeHtml(input.actionUrl)}">${hidden}` +
    `<div class="b"><button type="submit">${escapeHtml(ui.optOut)}</button></div></form>`;
  return htmlDocument(uiLanguage(input.language), ui.optOut, BASE_CSS + FORM_CSS, main);
};

// ---------------------------------------------------------------------------------------------
// E-mail and SMS/voice. E-mail HTML is laid out with tables and inline styles only (what e-mail
// clients render alike); every text is escaped.

export interface InvitationEmailInput {
  definition: SurveyDefinition;
  /** The recipient's language (any tag); the closest survey language is used. */
  language: string;
  /** The survey page for this recipient. */
  surveyUrl: string;
  /**
   * The first question answered from the e-mail: when it is a rating, one link per score
   * (`scoreUrl(score)`) is shown. Other question types show only the survey link.
   */
  firstQuestion?: { id: string; scoreUrl: (score: number) => string };
  optOutUrl: string;
  /** A 1×1 image URL that records the e-mail was opened. */
  openPixelUrl?: string;
}

export interface RenderedEmail {
  /** One line: line breaks in the survey's subject are turned into spaces. */
  subject: string;
  html: string;
  text: string;
}

const EMAIL_FONT = 'font-family:Arial,Helvetica,sans-serif';
const EMAIL_TABLE = 'role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"';
const EMAIL_P = ` style="margin:0 0 16px"`;

/** Text on one line, with runs of white space as one space. */
const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

const renderEmail = (
  input: InvitationEmailInput,
  subjectPrefix: (prefix: string) => string,
): RenderedEmail => {
  const { definition, surveyUrl, firstQuestion, optOutUrl, openPixelUrl } = input;
  const local = localize(definition, input.language);
  const { ui } = local;
  const subject = oneLine(subjectPrefix(ui.reminderPrefix) + local.text(definition.invitation.subject));
  const body = local.text(definition.invitation.body);
  const found = firstQuestion && definition.questions.find((question) => question.id === firstQuestion.id);
  const rating = found?.type === 'rating' ? found : undefined;

  let questionHtml = '';
  let questionText = '';
  if (rating !== undefined && firstQuestion !== undefined) {
    const low = local.text(rating.lowLabel);
    const high = local.text(rating.highLabel);
    const points = rating.max - rating.min + 1;
    const width = Math.floor(100 / points);
    let cells = '';
    for (let score = rating.min; score <= rating.max; score++) {
      cells +=
        `<td width="${width}%" style="padding:0 2px"><a href="${escapeHtml(firstQuestion.scoreUrl(score))}" ` +
        `style="display:block;padding:10px 0;border:1px solid ${C.accent};border-radius:4px;background:${C.background};` +
        `color:${C.accent};text-align:center;text-decoration:none;font-weight:bold;font-size:16px;line-height:20px;${EMAIL_FONT}">` +
        `${score}</a></td>`;
    }
    const labelCell = (text: string, align: string) =>
      `<td align="${align}" style="padding:6px 2px 0;font-size:13px;line-height:1.4;color:${C.muted};${EMAIL_FONT}">${lineHtml(text)}</td>`;
    questionHtml =
      `<p style="margin:24px 0 12px;font-weight:bold">${lineHtml(local.text(rating.text))}</p>` +
      `<table ${EMAIL_TABLE}><tr>${cells}</tr></table>` +
      (low === '' && high === ''
        ? ''
        : `<table ${EMAIL_TABLE}><tr>${labelCell(low, 'left')}${labelCell(high, 'right')}</tr></table>`);
    const scale = [
      low !== '' && `${rating.min} = ${oneLine(low)}`,
      high !== '' && `${rating.max} = ${oneLine(high)}`,
    ]
      .filter((part) => part !== false)
      .join(', ');
    questionText = `${local.text(rating.text).trim()}${scale === '' ? '' : `\n${scale}`}`;
  }

  // With score links the survey link is the quieter alternative; alone, it is the button.
  const surveyLink =
    rating === undefined
      ? `<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin-top:8px"><tr>` +
        `<td style="border-radius:6px;background:${C.accent}"><a href="${escapeHtml(surveyUrl)}" ` +
        `style="display:inline-block;padding:12px 24px;color:${C.onAccent};text-decoration:none;font-weight:bold;${EMAIL_FONT}">` +
        `${escapeHtml(ui.takeSurvey)}</a></td></tr></table>`
      : `<p style="margin:24px 0 0"><a href="${escapeHtml(surveyUrl)}" style="color:${C.accent};font-weight:bold">` +
        `${escapeHtml(ui.takeSurvey)}</a></p>`;
  const pixel =
    openPixelUrl === undefined
      ? ''
      : `<img src="${escapeHtml(openPixelUrl)}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0">`;

  const html =
    `<!doctype html><html lang="${escapeHtml(local.language)}"><head><meta charset="utf-8">` +
    '<meta name="viewport" content="width=device-width,initial-scale=1">' +
    `<title>${escapeHtml(subject)}</title></head>` +
    `<body style="margin:0;padding:0;background:${C.frame}">` +
    `<table ${EMAIL_TABLE} style="background:${C.frame}"><tr><td align="center" style="padding:24px 8px">` +
    `<table ${EMAIL_TABLE} style="max-width:600px;background:${C.background};border-radius:8px"><tr>` +
    `<td style="padding:24px 16px;${EMAIL_FONT};font-size:16px;line-height:1.5;color:${C.text}">` +
    `${paragraphsHtml(body, EMAIL_P)}${questionHtml}${surveyLink}</td></tr></table>` +
    `<p style="margin:16px 0 0;${EMAIL_FONT};font-size:13px;line-height:1.4;color:${C.muted}">` +
    `<a href="${escapeHtml(optOutUrl)}" style="color:${C.muted}">${escapeHtml(ui.optOut)}</a></p>` +
    `${pixel}</td></tr></table></body></html>`;

  const text = `${[
    body.trim(),
    questionText,
    `${ui.takeSurvey}\n${surveyUrl}`,
    `-- \n${ui.optOut}\n${optOutUrl}`,
  ]
    .filter((part) => part !== '')
    .join('\n\n')}\n`;
  return { subject, html, text };
};

/** The invitation e-mail: the survey's subject and body, the first rating to answer at once, the link. */
export const renderInvitationEmail = (input: InvitationEmailInput): RenderedEmail =>
  renderEmail(input, () => '');

/** The reminder e-mail: the invitation with "Reminder: " (localized) before the subject. */
export const renderReminderEmail = (input: InvitationEmailInput): RenderedEmail =>
  renderEmail(input, (prefix) => prefix);

/** Longest SMS/voice text, in UTF-16 code units (never more code points either). */
export const SHORT_MESSAGE_MAX = 320;

/**
 * The SMS/voice text: the invitation body and the survey link, at most 320 characters. A longer
 * body is cut (at a word when one ends near the limit) and ends in "…"; the link is never cut, so
 * a link longer than 318 characters alone exceeds the limit.
 */
export const renderShortMessage = (input: {
  definition: SurveyDefinition;
  language: string;
  surveyUrl: string;
}): string => {
  const { definition, surveyUrl } = input;
  const body = oneLine(localize(definition, input.language).text(definition.invitation.body));
  if (body === '') return surveyUrl;
  if (body.length + 1 + surveyUrl.length <= SHORT_MESSAGE_MAX) return `${body} ${surveyUrl}`;
  const room = SHORT_MESSAGE_MAX - surveyUrl.length - 2; // a space and "…"
  if (room <= 0) return surveyUrl;
  // Whole code points only: a surrogate pair is never split.
  let cut = '';
  for (const char of body) {
    if (cut.length + char.length > room) break;
    cut += char;
  }
  const space = cut.lastIndexOf(' ');
  if (space >= room * 0.75) cut = cut.slice(0, space);
  return `${cut.trimEnd()}… ${surveyUrl}`;
};
