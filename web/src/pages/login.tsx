import { useState, type FormEvent } from 'react';
import { api, type User } from '../api.ts';
import { ErrorBox, Field, useAction } from '../ui.tsx';

export function Login({ onSignedIn }: { onSignedIn: (u: User) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const a = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    await a.run(async () => {
      const r = await api<{ user: User }>('POST', '/v1/session', { email, password });
      setPassword('');
      onSignedIn(r.user);
    });
  };
  return (
    <main className="login">
      <form onSubmit={submit} className="card" aria-labelledby="login-title">
        <h1 id="login-title">Sign in to envoi</h1>
        <Field label="Email address">
          <input type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
        </Field>
        <Field label="Password">
          <input type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </Field>
        <ErrorBox error={a.error} />
        <button type="submit" className="primary" disabled={a.busy}>{a.busy ? 'Signing in…' : 'Sign in'}</button>
        <p className="hint">The first operator is created with <code>envoi user create --operator --email …</code>.</p>
      </form>
    </main>
  );
}
