import { SurveyContactRules } from '../components/SurveyContactRules';
import './surveys.css';

/**
 * The workspace's contact-fatigue rules (GET/PUT /api/v1/survey-settings): the same form as the
 * survey editor's "Contact rules" tab, so both places edit the settings one way. The channel
 * providers and widget rules in the same settings are kept as they are.
 */
export default function SettingsContactFatigue() {
  return (
    <section className="panel" aria-labelledby="contact-fatigue-title">
      <h3 id="contact-fatigue-title">Contact rules of every survey</h3>
      <SurveyContactRules canEdit />
      <p className="settings-hint">
        SMS, voice and webhook providers and the web widget’s rules are set through the API (
        <code>PUT /api/v1/survey-settings</code>); saving here keeps them as they are. The same rules are
        shown in each survey’s “Contact rules” tab.
      </p>
    </section>
  );
}
