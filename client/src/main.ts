import './app.css';
import { mount } from 'svelte';
import App from './App.svelte';
import { session } from './lib/session.svelte.js';

void session.restore();

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

export default mount(App, { target });
