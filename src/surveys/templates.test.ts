import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { parseSurveyDefinition, questionPath } from './definition.js';
import { SURVEY_TEMPLATES, surveyFromTemplate, type TemplateId, templateSummaries } from './templates.js';
import type { LocalText, SurveyDefinition } from './types.js';

const IDS = Object.keys(SURVEY_TEMPLATES) as TemplateId[];
const LANGUAGES = ['en', 'de', 'fr', 'es'];

/** Every LocalText of a definition (the objects keyed by its languages). */
const localTexts = (definition: SurveyDefinition): LocalText[] => {
  const found: LocalText[] = [];
  const walk = (value: unknown) => {
    if (typeof value !== 'object' || value === null) return;
    const keys = Object.keys(value);
    if (!Array.isArray(value) && keys.length > 0 && keys.every((key) => definition.languages.includes(key))) {
      found.push(value as LocalText);
      return;
    }
    for (const inner of Object.values(value)) walk(inner);
  };
  walk(definition);
  return found;
};

const appError = (run: () => unknown): AppError => {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('no error was thrown');
};

describe('SURVEY_TEMPLATES', () => {
  it('has the four templates, each keyed by its id', () => {
    expect(IDS).toEqual(['relationship-nps', 'transactional-nps', 'csat-after-contact', 'ces-after-contact']);
    for (const id of IDS) expect(SURVEY_TEMPLATES[id].id).toBe(id);
  });

  it.each(IDS)('%s is a valid definition in en, de, fr and es', (id) => {
    const { definition } = SURVEY_TEMPLATES[id];
    expect(definition.languages).toEqual(LANGUAGES);
    expect(parseSurveyDefinition(definition)).toEqual(definition);
  });

  it.each(IDS)('%s has a different text in each language', (id) => {
    for (const text of localTexts(SURVEY_TEMPLATES[id].definition)) {
      expect(new Set(Object.values(text)).size, JSON.stringify(text)).toBe(LANGUAGES.length);
    }
  });

  it('writes French with a no-break space before ? ! : ;', () => {
    for (const id of IDS) {
      for (const text of localTexts(SURVEY_TEMPLATES[id].definition)) {
        expect(text.fr).not.toMatch(/ [?!:;]/);
        expect(text.fr).not.toMatch(/[^\u00a0][?!:;]/);
      }
    }
  });

  it('promises the follow-up in every language', () => {
    for (const id of IDS) {
      expect(SURVEY_TEMPLATES[id].definition.followUp?.en).toBe(
        'We read every answer; if something went wrong, someone from our team will contact you.',
      );
    }
  });

  it('sets the reminder and expiry per template', () => {
    const days = IDS.map((id) => {
      const { reminderAfterDays, expiresAfterDays } = SURVEY_TEMPLATES[id].definition;
      return [id, reminderAfterDays, expiresAfterDays];
    });
    expect(days).toEqual([
      ['relationship-nps', 3, 14],
      ['transactional-nps', null, 7],
      ['csat-after-contact', null, 7],
      ['ces-after-contact', null, 7],
    ]);
  });

  it('cannot be changed by accident', () => {
    const { definition } = SURVEY_TEMPLATES['relationship-nps'];
    expect(() => {
      definition.questions[0].text.en = 'changed';
    }).toThrow(TypeError);
  });
});

describe('surveyFromTemplate', () => {
  it.each(IDS.flatMap((id) => LANGUAGES.map((language) => [id, language])))(
    '%s in %s passes parseSurveyDefinition',
    (id, language) => {
      const survey = surveyFromTemplate(id, { languages: [language] });
      expect(survey.languages).toEqual([language]);
      expect(parseSurveyDefinition(survey)).toEqual(survey);
      for (const text of localTexts(survey)) expect(Object.keys(text)).toEqual([language]);
    },
  );

  it('defaults to English and the template name', () => {
    const survey = surveyFromTemplate('csat-after-contact', {});
    expect(survey.languages).toEqual(['en']);
    expect(survey.name).toBe('CSAT after a contact');
    expect(survey.questions[0].text).toEqual({
      en: 'How satisfied are you with your recent contact with us?',
    });
  });

  it('takes the name and several languages, the first the default', () => {
    const survey = surveyFromTemplate('ces-after-contact', { name: 'Support CES', languages: ['de', 'en'] });
    expect(survey.name).toBe('Support CES');
    expect(survey.languages).toEqual(['de', 'en']);
    expect(Object.keys(survey.invitation.subject)).toEqual(['de', 'en']);
    expect(survey.questions[0]).toMatchObject({ type: 'rating', min: 1, max: 7, metric: 'ces' });
  });

  it('returns a copy that does not change the template', () => {
    const survey = surveyFromTemplate('relationship-nps', { languages: LANGUAGES });
    survey.questions[0].text.en = 'changed';
    survey.questions[1].branches?.push({ when: { answered: true }, goto: 'end' });
    expect(SURVEY_TEMPLATES['relationship-nps'].definition.questions[0].text.en).not.toBe('changed');
    expect(SURVEY_TEMPLATES['relationship-nps'].definition.questions[1].branches).toHaveLength(2);
  });

  it('refuses an unknown template, listing the known ones', () => {
    const error = appError(() => surveyFromTemplate('nps', {}));
    expect(error).toMatchObject({ status: 400, code: 'unknown_template' });
    for (const id of IDS) expect(error.message).toContain(id);
    expect(appError(() => surveyFromTemplate('toString', {})).code).toBe('unknown_template');
  });

  it('refuses a language the template lacks, listing the available ones', () => {
    const error = appError(() => surveyFromTemplate('relationship-nps', { languages: ['en', 'it'] }));
    expect(error).toMatchObject({ status: 400, code: 'unsupported_language' });
    expect(error.message).toContain('it');
    expect(error.message).toContain('en, de, fr, es');
    expect(appError(() => surveyFromTemplate('relationship-nps', { languages: [] })).code).toBe(
      'unsupported_language',
    );
  });

  it('refuses an invalid name like any definition', () => {
    const error = appError(() => surveyFromTemplate('relationship-nps', { name: '' }));
    expect(error).toMatchObject({
      code: 'invalid_survey',
      details: [{ path: 'name', message: 'must not be empty' }],
    });
  });
});

describe('template flows', () => {
  const nps = (id: 'relationship-nps' | 'transactional-nps') => surveyFromTemplate(id, {});
  const text = (survey: SurveyDefinition, id: string) =>
    survey.questions.find((q) => q.id === id)?.text.en ?? '(no such question)';

  it.each(['relationship-nps', 'transactional-nps'] as const)(
    '%s asks detractors what went wrong, passives what makes a 10, promoters what they liked',
    (id) => {
      const survey = nps(id);
      for (const score of [0, 3, 6]) {
        const path = questionPath(survey, { nps: score, improve: 'Too slow' });
        expect(path).toEqual(['nps', 'improve']);
        expect(text(survey, path[1])).toMatch(/what went wrong/i);
        expect(questionPath(survey, { nps: score })).toEqual(['nps', 'improve']);
      }
      for (const score of [7, 8]) {
        const path = questionPath(survey, { nps: score });
        expect(path).toEqual(['nps', 'improve_passive']);
        expect(text(survey, path[1])).toMatch(/a 10/);
      }
      for (const score of [9, 10]) {
        const path = questionPath(survey, { nps: score, liked: 'Friendly' });
        expect(path).toEqual(['nps', 'liked']);
        expect(text(survey, path[1])).toMatch(/what did you like most/i);
      }
    },
  );

  it('transactional NPS is about the recent contact', () => {
    expect(text(nps('transactional-nps'), 'nps')).toMatch(/your recent contact with us/);
  });

  it('CSAT: 1–2 → the main problem, then a comment; 3 → a comment; 4–5 → what they liked', () => {
    const survey = surveyFromTemplate('csat-after-contact', {});
    expect(questionPath(survey, { csat: 1, what_went_wrong: 'waiting_time' })).toEqual([
      'csat',
      'what_went_wrong',
      'comment',
    ]);
    expect(questionPath(survey, { csat: 2 })).toEqual(['csat', 'what_went_wrong', 'comment']);
    expect(questionPath(survey, { csat: 3, comment: 'ok' })).toEqual(['csat', 'comment']);
    expect(questionPath(survey, { csat: 4 })).toEqual(['csat', 'liked']);
    expect(questionPath(survey, { csat: 5, liked: 'Fast' })).toEqual(['csat', 'liked']);
    const reasons = survey.questions[1];
    expect(reasons.type === 'single' && reasons.options.map((o) => o.value)).toEqual([
      'waiting_time',
      'not_resolved',
      'staff_attitude',
      'had_to_repeat',
      'other',
    ]);
  });

  it('CES: 1–3 → what made it hard, then a comment; 4–7 → an optional comment', () => {
    const survey = surveyFromTemplate('ces-after-contact', {});
    expect(survey.questions[0].text.en).toBe('How easy was it to get your issue resolved?');
    for (const score of [1, 2, 3]) {
      expect(questionPath(survey, { ces: score, effort_reason: ['long_wait'] })).toEqual([
        'ces',
        'effort_reason',
        'comment',
      ]);
    }
    for (const score of [4, 7]) expect(questionPath(survey, { ces: score })).toEqual(['ces', 'comment']);
    const reasons = survey.questions[1];
    expect(reasons.type === 'multiple' && reasons.options.map((o) => o.value)).toEqual([
      'transferred',
      'repeated_information',
      'long_wait',
      'multiple_contacts',
      'unclear_answer',
      'other',
    ]);
    expect(survey.questions[2].required).toBe(false);
  });
});

describe('templateSummaries', () => {
  it('lists every template with its name, description and languages', () => {
    const summaries = templateSummaries();
    expect(summaries.map((summary) => summary.id)).toEqual(IDS);
    for (const summary of summaries) {
      expect(summary.name).not.toBe('');
      expect(summary.description.length).toBeGreaterThan(20);
      expect(summary.languages).toEqual(LANGUAGES);
    }
  });
});
