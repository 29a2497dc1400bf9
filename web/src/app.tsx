// The shell: who is signed in, the navigation for their role, and the page
// for the current hash route.
import { useEffect, useState, type ReactNode } from 'react';
import { api, whenSignedOut, type User } from './api.ts';
import { href, navigate, useRoute, type Route } from './router.ts';
import { Login } from './pages/login.tsx';
import { Domains, DomainDetail } from './pages/domains.tsx';
import { Lists, Contacts, ContactDetail } from './pages/audience.tsx';
import { Suppressions } from './pages/suppressions.tsx';
import { Campaigns, CampaignDetail, NewCampaign } from './pages/campaigns.tsx';
import { Sandbox, SandboxMessage } from './pages/sandbox.tsx';
import { Templates, TemplateEditor } from './pages/templates.tsx';
import { Feedback } from './pages/feedback.tsx';
import { Webhooks } from './pages/webhooks.tsx';
import { Keys } from './pages/keys.tsx';
import { Reputation } from './pages/reputation.tsx';
import { Tenants } from './pages/tenants.tsx';
import { Messages } from './pages/messages.tsx';
import { MessageDetail } from './pages/message.tsx';
import { Settings } from './pages/settings.tsx';
import { ImportCsv } from './pages/import-new.tsx';
import { Imports, ImportDetail } from './pages/imports.tsx';
import { Quarantine } from './pages/quarantine.tsx';

interface NavItem {
  to: string;
  label: string;
}

const TENANT_NAV: NavItem[] = [
  { to: '/campaigns', label: 'Campaigns' },
  { to: '/templates', label: 'Templates' },
  { to: '/messages', label: 'Messages' },
  { to: '/lists', label: 'Lists' },
  { to: '/imports', label: 'Imports' },
  { to: '/contacts', label: 'Contacts' },
  { to: '/suppressions', label: 'Suppressions' },
  { to: '/domains', label: 'Domains' },
  { to: '/sandbox', label: 'Sandbox' },
  { to: '/feedback', label: 'Feedback' },
  { to: '/reputation', label: 'Reputation' },
  { to: '/webhooks', label: 'Webhooks' },
  { to: '/keys', label: 'API keys & users' },
  { to: '/settings', label: 'Settings' },
];
const OPERATOR_NAV: NavItem[] = [
  { to: '/tenants', label: 'Tenants' },
  { to: '/quarantine', label: 'Quarantine' },
  { to: '/sandbox', label: 'Sandbox' },
  { to: '/feedback', label: 'Feedback' },
  { to: '/reputation', label: 'Reputation' },
  { to: '/keys', label: 'Operators' },
];

function page(r: Route, user: User): ReactNode {
  const [a, b] = r.parts;
  const op = user.role === 'operator';
  switch (a) {
    case 'tenants': return <Tenants />;
    case 'domains': return b ? <DomainDetail id={b} /> : <Domains />;
    case 'lists': return b && r.parts[2] === 'import' ? <ImportCsv listId={b} /> : <Lists />;
    case 'imports': return b ? <ImportDetail id={b} lines={Number(r.query.get('lines')) || null} /> : <Imports />;
    case 'quarantine': return <Quarantine />;
    case 'contacts': return b ? <ContactDetail id={b} /> : <Contacts />;
    case 'suppressions': return <Suppressions />;
    case 'campaigns': return b === 'new' ? <NewCampaign /> : b ? <CampaignDetail id={b} /> : <Campaigns />;
    case 'templates': return b ? <TemplateEditor key={b} id={b === 'new' ? undefined : b} /> : <Templates />;
    case 'sandbox': return b ? <SandboxMessage id={b} /> : <Sandbox />;
    case 'feedback': return <Feedback />;
    case 'webhooks': return <Webhooks />;
    case 'keys': return <Keys user={user} />;
    case 'reputation': return <Reputation operator={op} />;
    case 'messages': return b ? <MessageDetail id={b} recipient={r.query.get('recipient') ?? undefined} /> : <Messages />;
    case 'settings': return <Settings />;
    default: return null;
  }
}

export function App() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [menuOpen, setMenuOpen] = useState(false);
  const route = useRoute();

  useEffect(() => {
    whenSignedOut(() => setUser(null));
    api<{ user: User | null }>('GET', '/v1/session').then((r) => setUser(r.user), () => setUser(null));
  }, []);
  useEffect(() => {
    setMenuOpen(false);
    document.getElementById('page-title')?.focus();
  }, [route.path]);

  const nav = user?.role === 'operator' ? OPERATOR_NAV : TENANT_NAV;
  useEffect(() => {
    if (user && !route.parts.length) navigate(nav[0].to);
  }, [user, route.path, nav]);

  if (user === undefined) return <p className="boot">Loading…</p>;
  if (user === null) return <Login onSignedIn={(u) => setUser(u)} />;
  const signOut = async () => {
    await api('DELETE', '/v1/session').catch(() => {});
    setUser(null);
    navigate('/');
  };

  return (
    <div className="shell">
      <a className="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('page-title')?.focus(); }}>Skip to content</a>
      <header className="topbar">
        <span className="brand">envoi</span>
        <button type="button" className="menu-toggle" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen((o) => !o)}>Menu</button>
        <span className="who" title={user.email}>{user.email} · {user.role}</span>
        <button type="button" className="link" onClick={signOut}>Sign out</button>
      </header>
      <nav id="nav" className={menuOpen ? 'nav open' : 'nav'} aria-label="Main">
        <ul>
          {nav.map((n) => (
            <li key={n.to}>
              <a href={href(n.to)} aria-current={route.path === n.to || route.path.startsWith(n.to + '/') ? 'page' : undefined}>{n.label}</a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main">{page(route, user) ?? <p className="muted">Choose a page.</p>}</main>
    </div>
  );
}
