import { describe, expect, test } from 'vitest';
import {
  COLORS,
  escapeHtml,
  renderEndPage,
  renderInvitationEmail,
  renderMessagePage,
  renderOptOutPage,
  renderQuestionPage,
  renderReminderEmail,
  renderShortMessage,
  SHORT_MESSAGE_MAX,
  surveyLanguage,
} from './render.js';
import type { Question, SurveyDefinition } from './types.js';
import { UI_LANGUAGES, UI_TEXT, uiLanguage, uiText } from './ui-text.js';

// --- A tiny HTML reader: start tags and their attributes (no DOM library in the project). ---

interface Tag {
  name: string;
  attrs: Record<string, string>;
  /** Offset of the tag in the document. */
  at: number;
}

const unescapeHtml = (text: string) =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

const tags = (html: string, name: string): Tag[] =>
  [...html.matchAll(new RegExp(`<${name}\\b([^>]*)>`, 'gi'))].map((match) => {
    const attrs: Record<string, string> = {};
    for (const [, key, value] of (match[1] ?? '').matchAll(/([\w:-]+)(?:="([^"]*)")?/g)) {
      attrs[key as string] = unescapeHtml(value ?? '');
    }
    return { name, attrs, at: match.index ?? 0 };
  });

/** The content of the first element `<name …attribute="value"…>…</name>` (not nested). */
const contentOf = (html: string, name: string, attribute: string, value: string): string | undefined => {
  const tag = tags(html, name).find((candidate) => candidate.attrs[attribute] === value);
  if (tag === undefined) return undefined;
  const start = html.indexOf('>', tag.at) + 1;
  return html.slice(start, html.indexOf(`</${name}>`, start));
};

const textOf = (html: string) => unescapeHtml(html.replace(/<[^>]*>/g, ''));

// --- Definitions ---

const nps: Question = {
  id: 'nps',
  type: 'rating',
  min: 0,
  max: 10,
  metric: 'nps',
  text: {
    en: 'How likely are you to recommend us to a friend or colleague?',
    de: 'Wie wahrscheinlich ist es, dass Sie uns einem Freund oder Kollegen empfehlen?',
  },
  help: { en: 'Think of your last visit.', de: 'Denken Sie an Ihren letzten Besuch.' },
  lowLabel: { en: 'Not at all likely', de: 'Überhaupt nicht wahrscheinlich' },
  highLabel: { en: 'Extremely likely', de: 'Äußerst wahrscheinlich' },
};

const reason: Question = {
  id: 'reason',
  type: 'single',
  text: { en: 'What mattered most?', de: 'Was war am wichtigsten?' },
  options: [
    { value: 'price', label: { en: 'Price', de: 'Preis' } },
    { value: 'service', label: { en: 'Service', de: 'Service' } },
    { value: 'speed', label: { en: 'Speed', de: 'Geschwindigkeit' } },
  ],
};

const channels: Question = {
  id: 'channels',
  type: 'multiple',
  text: { en: 'How did you contact us?', de: 'Wie haben Sie uns kontaktiert?' },
  options: [
    { value: 'phone', label: { en: 'Phone', de: 'Telefon' } },
    { value: 'email', label: { en: 'E-mail', de: 'E-Mail' } },
    { value: 'chat', label: { en: 'Chat', de: 'Chat' } },
  ],
};

const comment: Question = {
  id: 'comment',
  type: 'text',
  maxLength: 2000,
  text: { en: 'Anything else?', de: 'Sonst noch etwas?' },
};

const definition: SurveyDefinition = {
  name: 'Service NPS',
  languages: ['en', 'de'],
  intro: { en: 'Three short questions.', de: 'Drei kurze Fragen.' },
  questions: [nps, reason, channels, comment],
  thankYou: { en: 'Thank you for your feedback!', de: 'Danke für Ihr Feedback!' },
  followUp: {
    en: 'We read every answer.\n\nIf something went wrong, we will call you within two days.',
    de: 'Wir lesen jede Antwort.',
  },
  invitation: {
    subject: { en: 'How did we do?', de: 'Wie waren wir?' },
    body: { en: 'Thank you for your visit. Tell us how it went.', de: 'Danke für Ihren Besuch.' },
  },
  reminderAfterDays: 3,
  expiresAfterDays: 14,
};

const page = (questionId: string, extra: Partial<Parameters<typeof renderQuestionPage>[0]> = {}) =>
  renderQuestionPage({
    definition,
    language: 'en',
    questionId,
    position: 1,
    total: 4,
    actionUrl: '/s/abc123',
    ...extra,
  });

const inputsNamedAnswer = (html: string) => tags(html, 'input').filter((tag) => tag.attrs.name === 'answer');
const labelFor = (html: string, id: string) => contentOf(html, 'label', 'for', id);

describe('the question page', () => {
  test('is a complete HTML5 document with one post form, the question id, and no script or external resource', () => {
    const html = page('nps', { hiddenFields: { csrf: 'tok-1' } });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(tags(html, 'html')[0]?.attrs.lang).toBe('en');
    expect(tags(html, 'meta').some((tag) => tag.attrs.charset === 'utf-8')).toBe(true);
    expect(tags(html, 'meta').find((tag) => tag.attrs.name === 'viewport')?.attrs.content).toContain(
      'width=device-width',
    );
    expect(html).toContain('<title>Service NPS</title>');
    expect(tags(html, 'style')).toHaveLength(1);
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(|@font-face/i);
    const forms = tags(html, 'form');
    expect(forms).toHaveLength(1);
    expect(forms[0]?.attrs).toMatchObject({ method: 'post', action: '/s/abc123' });
    const hidden = tags(html, 'input').filter((tag) => tag.attrs.type === 'hidden');
    expect(hidden.map((tag) => [tag.attrs.name, tag.attrs.value])).toEqual([
      ['question', 'nps'],
      ['csrf', 'tok-1'],
    ]);
    // Every field is inside the form.
    const formStart = forms[0]?.at ?? 0;
    const formEnd = html.indexOf('</form>');
    for (const input of tags(html, 'input')) expect(input.at > formStart && input.at < formEnd).toBe(true);
  });

  test('a rating has one radio per score, each with its own label, and the end labels attached to the ends', () => {
    const html = page('nps');
    const radios = inputsNamedAnswer(html);
    expect(radios.map((radio) => radio.attrs.value)).toEqual([
      '0',
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
      '10',
    ]);
    const ids = new Set<string>();
    for (const radio of radios) {
      expect(radio.attrs.type).toBe('radio');
      const id = radio.attrs.id as string;
      expect(id).toBeTruthy();
      ids.add(id);
      expect(labelFor(html, id)).toBe(radio.attrs.value);
    }
    expect(ids.size).toBe(11);
    expect(tags(html, 'label')).toHaveLength(11);
    // Ids are unique in the whole page.
    const allIds = [...html.matchAll(/\sid="([^"]*)"/g)].map((match) => match[1]);
    expect(new Set(allIds).size).toBe(allIds.length);

    const low = radios[0]?.attrs['aria-describedby'] as string;
    const high = radios[10]?.attrs['aria-describedby'] as string;
    expect(contentOf(html, 'span', 'id', low)).toBe('Not at all likely');
    expect(contentOf(html, 'span', 'id', high)).toBe('Extremely likely');
    expect(radios.slice(1, 10).every((radio) => radio.attrs['aria-describedby'] === undefined)).toBe(true);

    expect(html).toMatch(
      /<fieldset[^>]*><legend><h1>How likely are you to recommend us to a friend or colleague\?<\/h1>/,
    );
    expect(textOf(html)).toContain('Think of your last visit.');
    // Required: the browser asks too, and there is no skip.
    expect(radios.filter((radio) => 'required' in radio.attrs)).toHaveLength(1);
    expect(tags(html, 'button').map((button) => button.attrs.name)).toEqual([undefined]);
  });

  test('on a phone the 0–10 scale wraps into rows of at most six, with touch targets of at least 44px', () => {
    const html = page('nps');
    expect(html).toContain('.s{grid-template-columns:repeat(11,1fr)}');
    expect(html).toMatch(/@media\(max-width:36rem\)\{\.s\{grid-template-columns:repeat\(6,1fr\)\}\}/);
    expect(html).toContain('min-height:2.75rem');
    expect(html).toMatch(/focus-visible[^{]*\{outline:3px solid/);
    // A five-point scale stays on one row.
    const csat: SurveyDefinition = {
      ...definition,
      questions: [{ id: 'csat', type: 'rating', min: 1, max: 5, metric: 'csat', text: { en: 'Satisfied?' } }],
    };
    const five = renderQuestionPage({
      definition: csat,
      language: 'en',
      questionId: 'csat',
      position: 1,
      total: 1,
      actionUrl: '/',
    });
    expect(five).toContain('repeat(5,1fr)');
    expect(five).not.toContain('@media(max-width:36rem)');
    expect(inputsNamedAnswer(five).map((radio) => radio.attrs.value)).toEqual(['1', '2', '3', '4', '5']);
  });

  test('a single choice has radios with their labels and the "Choose one" hint', () => {
    const html = page('reason', { position: 2 });
    const radios = inputsNamedAnswer(html);
    expect(radios.map((radio) => [radio.attrs.type, radio.attrs.value])).toEqual([
      ['radio', 'price'],
      ['radio', 'service'],
      ['radio', 'speed'],
    ]);
    expect(radios.map((radio) => labelFor(html, radio.attrs.id as string))).toEqual([
      'Price',
      'Service',
      'Speed',
    ]);
    expect(textOf(html)).toContain('Choose one');
    expect(tags(html, 'fieldset')[0]?.attrs['aria-describedby']).toBe('q-hint');
  });

  test('a multiple choice has checkboxes, none required, and previous choices checked', () => {
    const html = page('channels', { position: 3, previous: ['phone', 'chat'] });
    const boxes = inputsNamedAnswer(html);
    expect(boxes.every((box) => box.attrs.type === 'checkbox')).toBe(true);
    expect(boxes.map((box) => labelFor(html, box.attrs.id as string))).toEqual(['Phone', 'E-mail', 'Chat']);
    expect(boxes.filter((box) => 'checked' in box.attrs).map((box) => box.attrs.value)).toEqual([
      'phone',
      'chat',
    ]);
    expect(boxes.some((box) => 'required' in box.attrs)).toBe(false);
    expect(textOf(html)).toContain('Choose any');
  });

  test('a text question is a labelled textarea with its maximum length, optional by default, with Skip', () => {
    const html = page('comment', { position: 4 });
    const textarea = tags(html, 'textarea')[0];
    expect(textarea?.attrs).toMatchObject({ name: 'answer', id: 'answer', maxlength: '2000' });
    expect('required' in (textarea?.attrs ?? {})).toBe(false);
    expect(labelFor(html, 'answer')).toContain('Anything else?');
    expect(textOf(html)).toContain('(optional)');
    expect(textOf(html)).toContain('Up to 2,000 characters');
    const buttons = tags(html, 'button');
    expect(buttons.map((button) => [button.attrs.type, button.attrs.name, button.attrs.value])).toEqual([
      ['submit', undefined, undefined],
      ['submit', 'skip', '1'],
    ]);
    expect('formnovalidate' in (buttons[1]?.attrs ?? {})).toBe(true);
    // Position 4 of 4: the main button submits.
    expect(contentOf(html, 'button', 'type', 'submit')).toBe('Submit');
    expect(contentOf(html, 'button', 'name', 'skip')).toBe('Skip');
  });

  test('the skip button is there only for optional questions; Next until the last position', () => {
    const optionalNps: SurveyDefinition = { ...definition, questions: [{ ...nps, required: false }, reason] };
    const html = renderQuestionPage({
      definition: optionalNps,
      language: 'en',
      questionId: 'nps',
      position: 1,
      total: 2,
      actionUrl: '/',
    });
    expect(tags(html, 'button').filter((button) => button.attrs.name === 'skip')).toHaveLength(1);
    expect(inputsNamedAnswer(html).some((radio) => 'required' in radio.attrs)).toBe(false);
    expect(contentOf(html, 'button', 'type', 'submit')).toBe('Next');
    for (const id of ['nps', 'reason', 'channels']) {
      expect(page(id).includes('name="skip"')).toBe(false);
    }
    expect(page('comment').includes('name="skip"')).toBe(true);
    const requiredText: SurveyDefinition = { ...definition, questions: [{ ...comment, required: true }] };
    const required = renderQuestionPage({
      definition: requiredText,
      language: 'en',
      questionId: 'comment',
      position: 1,
      total: 1,
      actionUrl: '/',
    });
    expect(required.includes('name="skip"')).toBe(false);
    expect('required' in (tags(required, 'textarea')[0]?.attrs ?? {})).toBe(true);
  });

  test('progress as text and as a labelled progress element', () => {
    const html = page('reason', { position: 2, total: 5 });
    expect(contentOf(html, 'p', 'id', 'progress')).toBe('Question 2 of 5');
    const progress = tags(html, 'progress')[0];
    expect(progress?.attrs).toMatchObject({ max: '5', value: '2', 'aria-labelledby': 'progress' });
  });

  test('the previous answer is pre-selected or pre-filled', () => {
    const rating = inputsNamedAnswer(page('nps', { previous: 7 }));
    expect(rating.filter((radio) => 'checked' in radio.attrs).map((radio) => radio.attrs.value)).toEqual([
      '7',
    ]);
    const zero = inputsNamedAnswer(page('nps', { previous: 0 }));
    expect(zero.filter((radio) => 'checked' in radio.attrs).map((radio) => radio.attrs.value)).toEqual(['0']);
    const single = inputsNamedAnswer(page('reason', { previous: 'service' }));
    expect(single.filter((radio) => 'checked' in radio.attrs).map((radio) => radio.attrs.value)).toEqual([
      'service',
    ]);
    const none = inputsNamedAnswer(page('reason'));
    expect(none.some((radio) => 'checked' in radio.attrs)).toBe(false);
    const text = page('comment', { previous: '\nFirst line\nsecond & last' });
    // The parser drops the one line break right after <textarea>: the answer's own survives.
    expect(contentOf(text, 'textarea', 'name', 'answer')).toBe('\n\nFirst line\nsecond &amp; last');
  });

  test('an error is announced, described and marks the group invalid', () => {
    const html = page('nps', { error: 'This question needs an answer' });
    const alert = tags(html, 'p').find((tag) => tag.attrs.role === 'alert');
    expect(alert).toBeDefined();
    expect(contentOf(html, 'p', 'role', 'alert')).toBe('This question needs an answer');
    const fieldset = tags(html, 'fieldset')[0];
    expect(fieldset?.attrs['aria-invalid']).toBe('true');
    expect(fieldset?.attrs['aria-describedby']?.split(' ')).toEqual(['q-help', alert?.attrs.id]);
    const text = page('comment', { error: 'Too long' });
    const textarea = tags(text, 'textarea')[0];
    expect(textarea?.attrs['aria-invalid']).toBe('true');
    expect(textarea?.attrs['aria-describedby']?.split(' ')).toContain('q-error');
    const clean = page('nps');
    expect(clean.slice(clean.indexOf('</style>'))).not.toMatch(/aria-invalid|role="alert"/);
  });

  test('the intro is shown only when asked for', () => {
    expect(textOf(page('nps', { showIntro: true }))).toContain('Three short questions.');
    expect(textOf(page('nps'))).not.toContain('Three short questions.');
  });

  test('every user-supplied text is escaped', () => {
    const evil = `<script>alert("x")</script>'`;
    const hostile: SurveyDefinition = {
      ...definition,
      name: `Survey ${evil}`,
      intro: { en: `Intro ${evil}` },
      questions: [
        {
          ...nps,
          text: { en: `Rate ${evil}` },
          help: { en: `Help ${evil}` },
          lowLabel: { en: `Low ${evil}` },
        },
        { ...reason, options: [{ value: 'a', label: { en: `Option ${evil}` } }] },
        { ...comment, text: { en: `Text ${evil}` } },
      ],
      thankYou: { en: `Thanks ${evil}` },
      followUp: { en: `Next ${evil}` },
    };
    const base = { definition: hostile, language: 'en', position: 1, total: 3, actionUrl: `/s/"><script>` };
    const pages = [
      renderQuestionPage({
        ...base,
        questionId: 'nps',
        showIntro: true,
        error: `Error ${evil}`,
        hiddenFields: { t: evil },
      }),
      renderQuestionPage({ ...base, questionId: 'reason', error: evil }),
      renderQuestionPage({ ...base, questionId: 'comment', previous: `</textarea>${evil}` }),
      renderEndPage({ definition: hostile, language: 'en' }),
      renderMessagePage({ language: 'en', title: evil, message: evil, status: 'error' }),
    ];
    for (const html of pages) {
      expect(html).not.toMatch(/<script|alert\("x"\)|'<\/|<\/textarea><script/i);
      expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;');
    }
    expect(pages[0]).toContain('<title>Survey &lt;script&gt;');
    expect(tags(pages[0] as string, 'form')[0]?.attrs.action).toBe(`/s/"><script>`);
    expect(contentOf(pages[2] as string, 'textarea', 'name', 'answer')).toBe(
      '\n&lt;/textarea&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;',
    );
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });

  test('German: the survey texts and the page words, for de and de-AT', () => {
    for (const language of ['de', 'de-AT', 'DE_ch']) {
      const html = page('reason', { language, position: 2, total: 4, error: uiText(language).required });
      expect(tags(html, 'html')[0]?.attrs.lang).toBe('de');
      const text = textOf(html);
      expect(text).toContain('Was war am wichtigsten?');
      expect(text).toContain('Geschwindigkeit');
      expect(text).toContain('Frage 2 von 4');
      expect(text).toContain('Eine Antwort auswählen');
      expect(text).toContain('Bitte beantworten Sie diese Frage');
      expect(contentOf(html, 'button', 'type', 'submit')).toBe('Weiter');
    }
    const comment = page('comment', { language: 'de', position: 4 });
    expect(textOf(comment)).toContain('Bis zu 2.000 Zeichen');
    expect(contentOf(comment, 'button', 'type', 'submit')).toBe('Absenden');
    expect(contentOf(comment, 'button', 'name', 'skip')).toBe('Überspringen');
    // A language the survey lacks gets its default language, English texts and words alike.
    const french = page('nps', { language: 'fr-FR' });
    expect(tags(french, 'html')[0]?.attrs.lang).toBe('en');
    expect(textOf(french)).toContain('Question 1 of 4');
  });

  test('an unknown question is an error; hidden fields cannot shadow the form', () => {
    expect(() => page('nope')).toThrow(/nope/);
    expect(() => page('nps', { hiddenFields: { answer: '10' } })).toThrow(/answer/);
  });

  test('a rendered NPS page is at most 8 KB', () => {
    const html = page('nps', {
      showIntro: true,
      previous: 9,
      error: 'This question needs an answer',
      hiddenFields: { csrf: 'x'.repeat(64) },
    });
    expect(Buffer.byteLength(html, 'utf8')).toBeLessThanOrEqual(8 * 1024);
  });
});

/** WCAG 2 contrast ratio of two #rrggbb colours. */
const contrast = (a: string, b: string) => {
  const luminance = (hex: string) => {
    const [r, g, b] = [1, 3, 5].map((i) => {
      const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
};

test('colours meet WCAG AA: 4.5:1 for text, 3:1 for borders and focus rings', () => {
  const c = COLORS;
  const text: [string, string][] = [
    [c.text, c.background],
    [c.muted, c.background],
    [c.accent, c.background],
    [c.onAccent, c.accent],
    [c.text, c.accentLight],
    [c.muted, c.frame],
    [c.error, c.errorBackground],
    [c.error, c.background],
  ];
  for (const [foreground, background] of text)
    expect(contrast(foreground, background)).toBeGreaterThanOrEqual(4.5);
  for (const [foreground, background] of [
    [c.border, c.background],
    [c.accent, c.background],
    [c.accent, c.accentLight],
  ] as const)
    expect(contrast(foreground, background)).toBeGreaterThanOrEqual(3);
  expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
});

describe('end and message pages', () => {
  test('the end page thanks and promises the follow-up', () => {
    const html = renderEndPage({ definition, language: 'en-GB' });
    expect(tags(html, 'html')[0]?.attrs.lang).toBe('en');
    expect(html).toContain('<h1>Thank you for your feedback!</h1>');
    expect(html).toContain(
      '<p>We read every answer.</p><p>If something went wrong, we will call you within two days.</p>',
    );
    expect(html).not.toMatch(/<form|<script/);
    expect(textOf(renderEndPage({ definition, language: 'de' }))).toContain('Wir lesen jede Antwort.');
  });

  test('a message page shows its title and message in the dictionary language', () => {
    const ui = uiText('nl-BE');
    const html = renderMessagePage({
      language: 'nl-BE',
      title: ui.linkExpiredTitle,
      message: ui.linkExpired,
    });
    expect(tags(html, 'html')[0]?.attrs.lang).toBe('nl');
    expect(html).toContain('<title>Link verlopen</title>');
    expect(html).toContain('<h1>Link verlopen</h1><p>Deze enquêtelink is verlopen</p>');
    const error = renderMessagePage({ language: 'xx', title: 'Oops', message: 'Broken', status: 'error' });
    expect(tags(error, 'html')[0]?.attrs.lang).toBe('en');
    expect(error).toContain('<p class="err">Broken</p>');
    expect(error).not.toMatch(/<script/);
  });
});

test('the opt-out page asks for a POST, so link checkers opt nobody out', () => {
  const html = renderOptOutPage({
    language: 'fr-CA',
    actionUrl: '/s/t"k/opt-out',
    hiddenFields: { csrf: '<x>' },
  });
  expect(tags(html, 'html')[0]?.attrs.lang).toBe('fr');
  expect(tags(html, 'form')).toHaveLength(1);
  expect(tags(html, 'form')[0]?.attrs).toMatchObject({ method: 'post', action: '/s/t"k/opt-out' });
  expect(tags(html, 'input')[0]?.attrs).toMatchObject({ type: 'hidden', name: 'csrf', value: '<x>' });
  expect(contentOf(html, 'button', 'type', 'submit')).toBe('Ne plus recevoir d’enquêtes par e-mail');
  expect(html).not.toMatch(/<script|<x>/);
});

describe('ui text', () => {
  test('falls back by primary subtag, then to English', () => {
    expect(uiText('de-AT')).toBe(UI_TEXT.de);
    expect(uiText('pt_BR')).toBe(UI_TEXT.pt);
    expect(uiText('FR')).toBe(UI_TEXT.fr);
    expect(uiText('xx')).toBe(UI_TEXT.en);
    expect(uiText('')).toBe(UI_TEXT.en);
    expect(uiLanguage('es-419')).toBe('es');
  });

  test('every language has the same keys, all filled', () => {
    const keys = Object.keys(UI_TEXT.en).sort();
    expect(Object.keys(UI_TEXT).sort()).toEqual([...UI_LANGUAGES].sort());
    for (const language of UI_LANGUAGES) {
      const ui = UI_TEXT[language];
      expect(Object.keys(ui).sort(), language).toEqual(keys);
      for (const [key, value] of Object.entries(ui)) {
        expect(
          typeof value === typeof (UI_TEXT.en as unknown as Record<string, unknown>)[key],
          `${language}.${key}`,
        ).toBe(true);
        const text = typeof value === 'function' ? (value as (...args: unknown[]) => string)(3, 7) : value;
        expect(String(text).trim(), `${language}.${key}`).not.toBe('');
        if (key === 'progress') expect(text).toMatch(/3.*7/);
      }
      expect(ui.reminderPrefix.endsWith(' ')).toBe(true);
    }
  });

  test('the survey language: same tag, then the same primary subtag, then the default', () => {
    const languages = { languages: ['en', 'de-CH', 'de', 'pt-BR'] };
    expect(surveyLanguage(languages, 'de-CH')).toBe('de-CH');
    expect(surveyLanguage(languages, 'de-AT')).toBe('de');
    expect(surveyLanguage(languages, 'pt')).toBe('pt-BR');
    expect(surveyLanguage(languages, 'pt_br')).toBe('pt-BR');
    expect(surveyLanguage(languages, 'ja')).toBe('en');
  });
});

describe('e-mail', () => {
  const scoreUrl = (score: number) => `https://t.example/a/tok?q=nps&score=${score}`;
  const input = {
    definition,
    language: 'en',
    surveyUrl: 'https://t.example/s/tok',
    firstQuestion: { id: 'nps', scoreUrl },
    optOutUrl: 'https://t.example/o/tok',
    openPixelUrl: 'https://t.example/p/tok.gif',
  };

  test('the invitation has one link per score with the exact URLs, the survey link, opt-out and pixel', () => {
    const { subject, html, text } = renderInvitationEmail(input);
    expect(subject).toBe('How did we do?');
    expect(tags(html, 'html')[0]?.attrs.lang).toBe('en');
    expect(html).not.toMatch(/<script|<style|<link/i);
    const hrefs = tags(html, 'a').map((a) => a.attrs.href);
    const scoreLinks = tags(html, 'a').filter((a) => a.attrs.href?.includes('score='));
    expect(scoreLinks.map((a) => a.attrs.href)).toEqual(
      Array.from({ length: 11 }, (_, score) => scoreUrl(score)),
    );
    expect(scoreLinks.map((a) => contentOf(html.slice(a.at), 'a', 'href', a.attrs.href as string))).toEqual(
      Array.from({ length: 11 }, (_, score) => String(score)),
    );
    expect(html).toContain('&amp;score=10');
    expect(hrefs).toContain('https://t.example/s/tok');
    expect(hrefs).toContain('https://t.example/o/tok');
    expect(contentOf(html, 'a', 'href', 'https://t.example/s/tok')).toBe('Take the survey');
    expect(contentOf(html, 'a', 'href', 'https://t.example/o/tok')).toBe('Stop receiving surveys by e-mail');
    const images = tags(html, 'img');
    expect(images).toHaveLength(1);
    expect(images[0]?.attrs).toMatchObject({
      src: 'https://t.example/p/tok.gif',
      width: '1',
      height: '1',
      alt: '',
    });
    const visible = textOf(html);
    expect(visible).toContain('Thank you for your visit. Tell us how it went.');
    expect(visible).toContain('How likely are you to recommend us');
    expect(visible).toContain('Not at all likely');
    expect(visible).toContain('Extremely likely');
    expect(html).toContain('<table role="presentation"');

    expect(text).toContain('Thank you for your visit. Tell us how it went.');
    expect(text).toContain('0 = Not at all likely, 10 = Extremely likely');
    expect(text).toContain('https://t.example/s/tok');
    expect(text).toContain('https://t.example/o/tok');
    expect(text).not.toContain('score=');
  });

  test('without a pixel, or with a first question that is not a rating, only the survey link is offered', () => {
    const { html } = renderInvitationEmail({
      ...input,
      openPixelUrl: undefined,
      firstQuestion: { id: 'reason', scoreUrl },
    });
    expect(tags(html, 'img')).toHaveLength(0);
    expect(html).not.toContain('score=');
    expect(tags(html, 'a').map((a) => a.attrs.href)).toEqual([
      'https://t.example/s/tok',
      'https://t.example/o/tok',
    ]);
    const { text } = renderInvitationEmail({ ...input, firstQuestion: undefined });
    expect(text).not.toContain(' = ');
  });

  test('German e-mail and the reminder prefix', () => {
    const invitation = renderInvitationEmail({ ...input, language: 'de-DE' });
    expect(invitation.subject).toBe('Wie waren wir?');
    expect(textOf(invitation.html)).toContain('Zur Umfrage');
    expect(invitation.text).toContain('Keine Umfragen mehr per E-Mail erhalten');
    expect(renderReminderEmail({ ...input, language: 'de' }).subject).toBe('Erinnerung: Wie waren wir?');
    const reminder = renderReminderEmail(input);
    expect(reminder.subject).toBe('Reminder: How did we do?');
    expect(reminder.html).toContain('<title>Reminder: How did we do?</title>');
  });

  test('e-mail texts are escaped and the subject is one line', () => {
    const evil = `<script>alert("x")</script>`;
    const hostile: SurveyDefinition = {
      ...definition,
      questions: [{ ...nps, text: { en: `Rate ${evil}` }, highLabel: { en: evil } }],
      invitation: { subject: { en: `Hi\r\nBcc: x@example.com ${evil}` }, body: { en: `Body ${evil}` } },
    };
    const { subject, html } = renderInvitationEmail({
      ...input,
      definition: hostile,
      surveyUrl: `https://t.example/s/"><script>`,
    });
    expect(subject).toBe(`Hi Bcc: x@example.com ${evil}`);
    expect(html).not.toMatch(/<script|alert\("x"\)/);
    expect(html).toContain('Body &lt;script&gt;');
    expect(html).toContain('Rate &lt;script&gt;');
  });
});

describe('short message', () => {
  const url = 'https://t.example/s/0123456789abcdef';
  test('is the body, a space and the URL', () => {
    expect(renderShortMessage({ definition, language: 'en', surveyUrl: url })).toBe(
      `Thank you for your visit. Tell us how it went. ${url}`,
    );
    expect(renderShortMessage({ definition, language: 'de', surveyUrl: url })).toBe(
      `Danke für Ihren Besuch. ${url}`,
    );
  });

  test('a long body is cut with "…", never the URL, within 320 characters', () => {
    for (const body of ['word '.repeat(200), 'x'.repeat(1000), '😀'.repeat(400)]) {
      const long: SurveyDefinition = {
        ...definition,
        invitation: { ...definition.invitation, body: { en: body } },
      };
      const message = renderShortMessage({ definition: long, language: 'en', surveyUrl: url });
      expect(message.length).toBeLessThanOrEqual(SHORT_MESSAGE_MAX);
      expect(message.length).toBeGreaterThan(SHORT_MESSAGE_MAX - 12);
      expect(message.endsWith(`… ${url}`)).toBe(true);
      expect(message).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    }
    const exact: SurveyDefinition = {
      ...definition,
      invitation: { ...definition.invitation, body: { en: 'y'.repeat(SHORT_MESSAGE_MAX - url.length - 1) } },
    };
    expect(renderShortMessage({ definition: exact, language: 'en', surveyUrl: url })).toHaveLength(
      SHORT_MESSAGE_MAX,
    );
  });
});
