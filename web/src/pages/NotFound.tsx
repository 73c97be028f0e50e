import { Link } from 'wouter';
import type { PageProps } from '../routes';

export default function NotFound(_props: PageProps) {
  return (
    <>
      <h1>Page not found</h1>
      <p>There is no page at this address. The link may be wrong or the page may not exist yet.</p>
      <p>
        <Link href="/">Go to the start page</Link>
      </p>
    </>
  );
}
