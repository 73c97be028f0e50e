import { AppError } from '../errors.js';
import { parseSurveyDefinition } from './definition.js';
import type { Branch, ChoiceOption, LocalText, Question, SurveyDefinition } from './types.js';

/**
 * Ready-made surveys for the core measures, written in English, German, French and Spanish.
 * `surveyFromTemplate` returns one in the languages a workspace asks for.
 */

export interface SurveyTemplate {
  id: string;
  /** Shown when choosing a template; also the default survey name. */
  name: string;
  description: string;
  /** The survey in every language the template is written in. */
  definition: SurveyDefinition;
}

export type TemplateId =
  | 'relationship-nps'
  | 'transactional-nps'
  | 'csat-after-contact'
  | 'ces-after-contact';

/** French puts a no-break space before ? ! : ; (written as a plain space below). */
const frenchSpacing = (text: string) => text.replace(/ ([?!:;])/g, '\u00a0$1');

/** One text in the four template languages. */
const t = (en: string, de: string, fr: string, es: string): LocalText => ({
  en,
  de,
  fr: frenchSpacing(fr),
  es,
});

const LANGUAGES = ['en', 'de', 'fr', 'es'];

/** A text question's two branches that end the survey whether or not it was answered. */
const THEN_END: Branch[] = [
  { when: { answered: true }, goto: 'end' },
  { when: { answered: false }, goto: 'end' },
];

const option = (value: string, label: LocalText): ChoiceOption => ({ value, label });

// Texts shared by several templates.

const THANK_YOU = t(
  'Thank you for your feedback!',
  'Vielen Dank für Ihr Feedback!',
  'Merci pour votre avis !',
  '¡Gracias por su opinión!',
);
const FOLLOW_UP = t(
  'We read every answer; if something went wrong, someone from our team will contact you.',
  'Wir lesen jede Antwort. Wenn etwas schiefgelaufen ist, meldet sich jemand aus unserem Team bei Ihnen.',
  "Nous lisons chaque réponse ; si quelque chose n'a pas fonctionné, un membre de notre équipe vous contactera.",
  'Leemos todas las respuestas; si algo salió mal, alguien de nuestro equipo se pondrá en contacto con usted.',
);
const AFTER_CONTACT_INTRO = t(
  "Thank you for contacting us. We'd like to know how it went.",
  'Danke, dass Sie sich an uns gewandt haben. Wir möchten wissen, wie es gelaufen ist.',
  "Merci de nous avoir contactés. Nous aimerions savoir comment cela s'est passé.",
  'Gracias por ponerse en contacto con nosotros. Nos gustaría saber cómo fue.',
);
const NPS_LOW = t('Not at all likely', 'Sehr unwahrscheinlich', 'Pas du tout probable', 'Nada probable');
const NPS_HIGH = t('Extremely likely', 'Äußerst wahrscheinlich', 'Extrêmement probable', 'Muy probable');
const LIKED = t(
  'Great to hear! What did you like most?',
  'Das freut uns! Was hat Ihnen am besten gefallen?',
  "Nous sommes ravis de l'apprendre ! Qu'avez-vous le plus apprécié ?",
  '¡Nos alegra saberlo! ¿Qué es lo que más le gustó?',
);
const SOMETHING_ELSE = t('Something else', 'Etwas anderes', 'Autre chose', 'Otra cosa');

/** The NPS flow: 0–6 → what to improve, 7–8 → what would make it a 10, 9–10 → what they liked. */
const npsQuestions = (texts: {
  nps: LocalText;
  improve: LocalText;
  improvePassive: LocalText;
  liked: LocalText;
}): Question[] => [
  {
    id: 'nps',
    type: 'rating',
    text: texts.nps,
    min: 0,
    max: 10,
    metric: 'nps',
    lowLabel: NPS_LOW,
    highLabel: NPS_HIGH,
    required: true,
    branches: [
      { when: { max: 6 }, goto: 'improve' },
      { when: { min: 7, max: 8 }, goto: 'improve_passive' },
      { when: { min: 9 }, goto: 'liked' },
    ],
  },
  { id: 'improve', type: 'text', text: texts.improve, required: false, maxLength: 5000, branches: THEN_END },
  {
    id: 'improve_passive',
    type: 'text',
    text: texts.improvePassive,
    required: false,
    maxLength: 5000,
    branches: THEN_END,
  },
  { id: 'liked', type: 'text', text: texts.liked, required: false, maxLength: 5000, branches: [] },
];

const relationshipNps: SurveyDefinition = {
  name: 'Relationship NPS',
  languages: LANGUAGES,
  intro: t(
    'Thank you for taking a moment for us. Your answers help us get better.',
    'Danke, dass Sie sich einen Moment Zeit für uns nehmen. Ihre Antworten helfen uns, besser zu werden.',
    'Merci de prendre un moment pour nous. Vos réponses nous aident à nous améliorer.',
    'Gracias por dedicarnos un momento. Sus respuestas nos ayudan a mejorar.',
  ),
  questions: npsQuestions({
    nps: t(
      'How likely are you to recommend us to a friend or colleague?',
      'Wie wahrscheinlich ist es, dass Sie uns einem Freund oder Kollegen weiterempfehlen?',
      'Quelle est la probabilité que vous nous recommandiez à un ami ou à un collègue ?',
      '¿Qué probabilidad hay de que nos recomiende a un amigo o colega?',
    ),
    improve: t(
      "We're sorry to hear that. What went wrong, and what should we improve?",
      'Das tut uns leid. Was ist schiefgelaufen, und was sollten wir verbessern?',
      "Nous en sommes désolés. Qu'est-ce qui n'a pas fonctionné, et que devrions-nous améliorer ?",
      'Lamentamos oír eso. ¿Qué salió mal y qué deberíamos mejorar?',
    ),
    improvePassive: t(
      'Thank you! What would make it a 10 for you?',
      'Danke! Was müssten wir tun, damit Sie uns eine 10 geben?',
      'Merci ! Que faudrait-il pour que vous nous donniez un 10 ?',
      '¡Gracias! ¿Qué haría falta para que nos diera un 10?',
    ),
    liked: LIKED,
  }),
  thankYou: THANK_YOU,
  followUp: FOLLOW_UP,
  invitation: {
    subject: t(
      'How are we doing? Tell us in two minutes',
      'Wie zufrieden sind Sie mit uns? Sagen Sie es uns in zwei Minuten',
      'Comment nous trouvez-vous ? Dites-le-nous en deux minutes',
      '¿Qué tal lo estamos haciendo? Cuéntenoslo en dos minutos',
    ),
    body: t(
      "We'd like to know what you think of us. Our short survey takes about two minutes:",
      'Wir möchten wissen, was Sie von uns halten. Unsere kurze Umfrage dauert etwa zwei Minuten:',
      'Nous aimerions savoir ce que vous pensez de nous. Notre courte enquête prend environ deux minutes :',
      'Nos gustaría saber qué opina de nosotros. Nuestra breve encuesta le llevará unos dos minutos:',
    ),
  },
  reminderAfterDays: 3,
  expiresAfterDays: 14,
};

const transactionalNps: SurveyDefinition = {
  name: 'Transactional NPS',
  languages: LANGUAGES,
  intro: AFTER_CONTACT_INTRO,
  questions: npsQuestions({
    nps: t(
      'Thinking of your recent contact with us, how likely are you to recommend us to a friend or colleague?',
      'Wie wahrscheinlich ist es nach Ihrem letzten Kontakt mit uns, dass Sie uns einem Freund oder Kollegen weiterempfehlen?',
      'Après votre récent échange avec nous, quelle est la probabilité que vous nous recommandiez à un ami ou à un collègue ?',
      'Pensando en su reciente contacto con nosotros, ¿qué probabilidad hay de que nos recomiende a un amigo o colega?',
    ),
    improve: t(
      "We're sorry to hear that. What went wrong during your contact with us, and what should we improve?",
      'Das tut uns leid. Was ist bei Ihrem Kontakt mit uns schiefgelaufen, und was sollten wir verbessern?',
      "Nous en sommes désolés. Qu'est-ce qui n'a pas fonctionné lors de votre échange avec nous, et que devrions-nous améliorer ?",
      'Lamentamos oír eso. ¿Qué salió mal en su contacto con nosotros y qué deberíamos mejorar?',
    ),
    improvePassive: t(
      'Thank you! What would have made your contact with us a 10?',
      'Danke! Was hätte Ihren Kontakt mit uns zu einer 10 gemacht?',
      "Merci ! Qu'aurions-nous dû faire pour mériter un 10 ?",
      '¡Gracias! ¿Qué habría hecho falta para que su contacto con nosotros mereciera un 10?',
    ),
    liked: t(
      'Great to hear! What did you like most about your contact with us?',
      'Das freut uns! Was hat Ihnen an Ihrem Kontakt mit uns am besten gefallen?',
      "Nous sommes ravis de l'apprendre ! Qu'avez-vous le plus apprécié lors de votre échange avec nous ?",
      '¡Nos alegra saberlo! ¿Qué es lo que más le gustó de su contacto con nosotros?',
    ),
  }),
  thankYou: THANK_YOU,
  followUp: FOLLOW_UP,
  invitation: {
    subject: t(
      'How was your recent contact with us?',
      'Wie war Ihr letzter Kontakt mit uns?',
      "Comment s'est passé votre récent échange avec nous ?",
      '¿Qué tal fue su reciente contacto con nosotros?',
    ),
    body: t(
      'Thank you for contacting us. Please tell us how it went – it takes less than a minute:',
      'Danke, dass Sie uns kontaktiert haben. Bitte sagen Sie uns, wie es war – es dauert weniger als eine Minute:',
      "Merci de nous avoir contactés. Dites-nous comment cela s'est passé, cela prend moins d'une minute :",
      'Gracias por contactar con nosotros. Cuéntenos qué tal fue; le llevará menos de un minuto:',
    ),
  },
  reminderAfterDays: null,
  expiresAfterDays: 7,
};

const csatAfterContact: SurveyDefinition = {
  name: 'CSAT after a contact',
  languages: LANGUAGES,
  intro: AFTER_CONTACT_INTRO,
  questions: [
    {
      id: 'csat',
      type: 'rating',
      text: t(
        'How satisfied are you with your recent contact with us?',
        'Wie zufrieden sind Sie mit Ihrem letzten Kontakt mit uns?',
        'Quel est votre niveau de satisfaction concernant votre récent échange avec nous ?',
        '¿Cuál es su grado de satisfacción con su reciente contacto con nosotros?',
      ),
      min: 1,
      max: 5,
      metric: 'csat',
      lowLabel: t('Very dissatisfied', 'Sehr unzufrieden', 'Très insatisfait', 'Muy insatisfecho'),
      highLabel: t('Very satisfied', 'Sehr zufrieden', 'Très satisfait', 'Muy satisfecho'),
      required: true,
      branches: [
        { when: { max: 2 }, goto: 'what_went_wrong' },
        { when: { min: 3, max: 3 }, goto: 'comment' },
        { when: { min: 4 }, goto: 'liked' },
      ],
    },
    {
      id: 'what_went_wrong',
      type: 'single',
      text: t(
        "We're sorry. What was the main problem?",
        'Das tut uns leid. Was war das Hauptproblem?',
        'Nous en sommes désolés. Quel a été le principal problème ?',
        'Lo sentimos. ¿Cuál fue el principal problema?',
      ),
      options: [
        option(
          'waiting_time',
          t(
            'I had to wait too long',
            'Ich musste zu lange warten',
            "J'ai dû attendre trop longtemps",
            'Tuve que esperar demasiado',
          ),
        ),
        option(
          'not_resolved',
          t(
            'My issue was not resolved',
            'Mein Anliegen wurde nicht gelöst',
            "Mon problème n'a pas été résolu",
            'Mi problema no se resolvió',
          ),
        ),
        option(
          'staff_attitude',
          t(
            'The staff were unfriendly or unhelpful',
            'Die Mitarbeitenden waren unfreundlich oder wenig hilfsbereit',
            'Le personnel était désagréable ou peu serviable',
            'El personal fue poco amable o poco servicial',
          ),
        ),
        option(
          'had_to_repeat',
          t(
            'I had to repeat myself',
            'Ich musste mich wiederholen',
            "J'ai dû me répéter",
            'Tuve que repetir las cosas varias veces',
          ),
        ),
        option('other', SOMETHING_ELSE),
      ],
      required: false,
      branches: [],
    },
    {
      id: 'comment',
      type: 'text',
      text: t(
        'What could we have done better?',
        'Was hätten wir besser machen können?',
        "Qu'aurions-nous pu mieux faire ?",
        '¿Qué podríamos haber hecho mejor?',
      ),
      required: false,
      maxLength: 5000,
      branches: THEN_END,
    },
    { id: 'liked', type: 'text', text: LIKED, required: false, maxLength: 5000, branches: [] },
  ],
  thankYou: THANK_YOU,
  followUp: FOLLOW_UP,
  invitation: {
    subject: t(
      'How did we do?',
      'Wie zufrieden waren Sie mit uns?',
      'Votre avis sur notre échange',
      '¿Qué tal le atendimos?',
    ),
    body: t(
      'Thank you for contacting us. Just one quick question – it takes less than a minute:',
      'Danke, dass Sie uns kontaktiert haben. Nur eine kurze Frage – es dauert weniger als eine Minute:',
      "Merci de nous avoir contactés. Une petite question, cela prend moins d'une minute :",
      'Gracias por contactar con nosotros. Solo una pregunta rápida; le llevará menos de un minuto:',
    ),
  },
  reminderAfterDays: null,
  expiresAfterDays: 7,
};

const cesAfterContact: SurveyDefinition = {
  name: 'CES after a contact',
  languages: LANGUAGES,
  intro: AFTER_CONTACT_INTRO,
  questions: [
    {
      id: 'ces',
      type: 'rating',
      text: t(
        'How easy was it to get your issue resolved?',
        'Wie einfach war es, Ihr Anliegen bei uns zu klären?',
        'Dans quelle mesure a-t-il été facile de faire résoudre votre demande ?',
        '¿Qué tan fácil le resultó resolver su problema con nosotros?',
      ),
      min: 1,
      max: 7,
      metric: 'ces',
      lowLabel: t('Very difficult', 'Sehr schwierig', 'Très difficile', 'Muy difícil'),
      highLabel: t('Very easy', 'Sehr einfach', 'Très facile', 'Muy fácil'),
      required: true,
      branches: [
        { when: { max: 3 }, goto: 'effort_reason' },
        { when: { min: 4 }, goto: 'comment' },
      ],
    },
    {
      id: 'effort_reason',
      type: 'multiple',
      text: t(
        'What made it harder than it should have been?',
        'Was hat es schwerer gemacht als nötig?',
        "Qu'est-ce qui a rendu les choses plus difficiles que nécessaire ?",
        '¿Qué lo hizo más difícil de lo necesario?',
      ),
      help: t(
        'Choose all that apply.',
        'Mehrfachauswahl möglich.',
        'Plusieurs réponses possibles.',
        'Puede elegir varias respuestas.',
      ),
      options: [
        option(
          'transferred',
          t(
            'I was passed from one person or department to another',
            'Ich wurde mehrmals weiterverbunden',
            "J'ai été transféré d'un interlocuteur ou d'un service à l'autre",
            'Me pasaron de una persona o departamento a otro',
          ),
        ),
        option(
          'repeated_information',
          t(
            'I had to give the same information more than once',
            'Ich musste dieselben Angaben mehrfach machen',
            "J'ai dû fournir les mêmes informations plusieurs fois",
            'Tuve que dar la misma información varias veces',
          ),
        ),
        option(
          'long_wait',
          t(
            'I had to wait a long time',
            'Ich musste lange warten',
            "J'ai dû attendre longtemps",
            'Tuve que esperar mucho tiempo',
          ),
        ),
        option(
          'multiple_contacts',
          t(
            'I had to contact you more than once',
            'Ich musste mich mehrmals bei Ihnen melden',
            "J'ai dû vous contacter plusieurs fois",
            'Tuve que contactar con ustedes más de una vez',
          ),
        ),
        option(
          'unclear_answer',
          t(
            'The answer was unclear',
            'Die Antwort war unklar',
            "La réponse n'était pas claire",
            'La respuesta no fue clara',
          ),
        ),
        option('other', SOMETHING_ELSE),
      ],
      required: false,
      branches: [],
    },
    {
      id: 'comment',
      type: 'text',
      text: t(
        'Is there anything else you would like to tell us?',
        'Möchten Sie uns sonst noch etwas mitteilen?',
        'Souhaitez-vous nous dire autre chose ?',
        '¿Hay algo más que quiera contarnos?',
      ),
      required: false,
      maxLength: 5000,
      branches: [],
    },
  ],
  thankYou: THANK_YOU,
  followUp: FOLLOW_UP,
  invitation: {
    subject: t(
      'Was it easy to get help from us?',
      'War es einfach, bei uns Hilfe zu bekommen?',
      "Avez-vous facilement obtenu de l'aide ?",
      '¿Le resultó fácil obtener ayuda?',
    ),
    body: t(
      'Thank you for contacting us. Please tell us how easy it was – it takes less than a minute:',
      'Danke, dass Sie uns kontaktiert haben. Bitte sagen Sie uns, wie einfach es war – es dauert weniger als eine Minute:',
      "Merci de nous avoir contactés. Dites-nous si cela a été facile, cela prend moins d'une minute :",
      'Gracias por contactar con nosotros. Díganos qué tan fácil fue; le llevará menos de un minuto:',
    ),
  },
  reminderAfterDays: null,
  expiresAfterDays: 7,
};

const deepFreeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
};

/** The templates by id, frozen: `surveyFromTemplate` returns copies to change. */
export const SURVEY_TEMPLATES: Readonly<Record<TemplateId, SurveyTemplate>> = deepFreeze({
  'relationship-nps': {
    id: 'relationship-nps',
    name: 'Relationship NPS',
    description:
      'Net Promoter Score about the relationship as a whole, sent periodically. Asks detractors what went wrong, passives what would make it a 10 and promoters what they liked most; one reminder after 3 days.',
    definition: relationshipNps,
  },
  'transactional-nps': {
    id: 'transactional-nps',
    name: 'Transactional NPS',
    description:
      'Net Promoter Score right after a contact, with the same follow-up questions as the relationship survey, about that contact.',
    definition: transactionalNps,
  },
  'csat-after-contact': {
    id: 'csat-after-contact',
    name: 'CSAT after a contact',
    description:
      'Customer satisfaction (1–5) after a contact. Dissatisfied customers choose the main problem and may comment; satisfied ones say what they liked.',
    definition: csatAfterContact,
  },
  'ces-after-contact': {
    id: 'ces-after-contact',
    name: 'CES after a contact',
    description:
      'Customer Effort Score (1–7) after a contact. When it was hard, customers say what made it so; everyone may add a comment.',
    definition: cesAfterContact,
  },
});

const isTemplateId = (id: string): id is TemplateId => Object.hasOwn(SURVEY_TEMPLATES, id);

/** Keeps a text's strings for `languages`, in their order. */
const inLanguages = (text: LocalText, languages: readonly string[]): LocalText =>
  Object.fromEntries(languages.map((language) => [language, text[language]]));

type Narrow = (text: LocalText) => LocalText;

const narrowQuestion = (q: Question, local: Narrow): Question => {
  const copy = { ...q, text: local(q.text) };
  if (copy.help) copy.help = local(copy.help);
  if (copy.type === 'rating') {
    if (copy.lowLabel) copy.lowLabel = local(copy.lowLabel);
    if (copy.highLabel) copy.highLabel = local(copy.highLabel);
  }
  if (copy.type === 'single' || copy.type === 'multiple') {
    copy.options = copy.options.map((o) => ({ value: o.value, label: local(o.label) }));
  }
  return copy;
};

/** The definition with every `LocalText` narrowed to `languages` (parsing then copies it all). */
const narrow = (definition: SurveyDefinition, languages: string[]): SurveyDefinition => {
  const local: Narrow = (text) => inLanguages(text, languages);
  const { intro, followUp, invitation } = definition;
  return {
    ...definition,
    languages,
    ...(intro && { intro: local(intro) }),
    questions: definition.questions.map((q) => narrowQuestion(q, local)),
    thankYou: local(definition.thankYou),
    ...(followUp && { followUp: local(followUp) }),
    invitation: { subject: local(invitation.subject), body: local(invitation.body) },
  };
};

/**
 * A new survey from a template, in the languages asked for (the first is the default).
 *
 * @throws AppError 400 `unknown_template` for an id not in {@link SURVEY_TEMPLATES};
 *   `unsupported_language` for a language the template is not written in;
 *   `invalid_survey` when the name is not valid (1–200 characters).
 * @example
 * const survey = surveyFromTemplate('csat-after-contact', { name: 'Support CSAT', languages: ['de', 'en'] });
 * survey.questions[0].text; // { de: 'Wie zufrieden …', en: 'How satisfied …' }
 */
export const surveyFromTemplate = (
  templateId: string,
  options: { name?: string; languages?: string[] } = {},
): SurveyDefinition => {
  if (!isTemplateId(templateId)) {
    const known = Object.keys(SURVEY_TEMPLATES).join(', ');
    throw new AppError(
      400,
      'unknown_template',
      `No survey template "${templateId}"; the templates are ${known}`,
    );
  }
  const template = SURVEY_TEMPLATES[templateId];
  const available = template.definition.languages;
  const languages = options.languages ?? ['en'];
  const missing = languages.filter((language) => !available.includes(language));
  if (languages.length === 0 || missing.length > 0) {
    const what = languages.length === 0 ? 'No language was chosen' : `Not available: ${missing.join(', ')}`;
    throw new AppError(
      400,
      'unsupported_language',
      `${what}. The template "${templateId}" is written in ${available.join(', ')}`,
    );
  }
  const definition = narrow(template.definition, languages);
  return parseSurveyDefinition({ ...definition, name: options.name ?? template.name });
};

/**
 * The templates for a picker: id, name, description and languages.
 *
 * @example
 * templateSummaries().map((summary) => summary.id); // ["relationship-nps", …]
 */
export const templateSummaries = (): Array<{
  id: string;
  name: string;
  description: string;
  languages: string[];
}> =>
  Object.values(SURVEY_TEMPLATES).map(({ id, name, description, definition }) => ({
    id,
    name,
    description,
    languages: [...definition.languages],
  }));
