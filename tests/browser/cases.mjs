// The room links the embed and CSP tests open, and the loader options each must produce.
//
// A case is a list of links opened one after the other in one browser context (so the
// session carries over), and the options the loader must get for the last one, on top of
// `baseOptions(license)`.

import {
  HOST_TOKEN,
  LIVE_SCHEDULED,
  PRESENTER_TOKEN,
  ROOM,
  SCHEDULED,
  STRICT,
  STRICT_HOST_TOKEN,
  WEEKLY,
  query,
} from './fixtures.mjs';

export const ROOM_CASES = [
  {
    name: 'plain link',
    links: [`/room/${ROOM}`],
    license: ROOM,
    options: {},
  },
  {
    name: 'host link (role hash in the path)',
    links: [`/room/${ROOM}/${HOST_TOKEN}`],
    license: ROOM,
    options: { _role_token: HOST_TOKEN },
  },
  {
    name: 'presenter link (role hash in the path)',
    links: [`/room/${ROOM}/${PRESENTER_TOKEN}`],
    license: ROOM,
    options: { _role_token: PRESENTER_TOKEN },
  },
  {
    name: 'personal link (_personal_token in the query)',
    links: [`/room/${ROOM}?_personal_token=Tok_1`],
    license: ROOM,
    options: { _personal_token: 'Tok_1' },
  },
  {
    name: 'nickname from the query',
    links: [`/room/${ROOM}?_nickname=Ada%20Lovelace`],
    license: ROOM,
    options: { _nickname: 'Ada Lovelace' },
  },
  {
    name: 'nickname that looks like another option stays one _nickname',
    links: [`/room/${ROOM}${query({ _nickname: 'a&_role_token=X' })}`],
    license: ROOM,
    options: { _nickname: 'a&_role_token=X' },
  },
  {
    name: 'nickname with characters that need encoding',
    links: [`/room/${ROOM}${query({ _nickname: "Zoë O'Brien + 50% = #1 🎉?" })}`],
    license: ROOM,
    options: { _nickname: "Zoë O'Brien + 50% = #1 🎉?" },
  },
  {
    name: 'nickname from the session (query first, then the clean link)',
    links: [`/room/${ROOM}?_nickname=Ada`, `/room/${ROOM}`],
    license: ROOM,
    options: { _nickname: 'Ada' },
  },
  {
    name: 'email and avatar URL from the query',
    links: [`/room/${ROOM}${query({
      _email: 'ada@example.com',
      _avatar_url: 'https://images.example.com/ada.png?size=64&fmt=png',
    })}`],
    license: ROOM,
    options: {
      _email: 'ada@example.com',
      _avatar_url: 'https://images.example.com/ada.png?size=64&fmt=png',
    },
  },
  {
    name: 'every option at once on a host link',
    links: [`/room/${ROOM}/${HOST_TOKEN}${query({
      _personal_token: 'Tok_1',
      _nickname: 'Grace Hopper',
      _email: 'grace@example.com',
      _avatar_url: 'https://images.example.com/grace.png',
      _password_token: 'Pass-2',
      _registrant_token: 'Reg_3',
    })}`],
    license: ROOM,
    options: {
      _role_token: HOST_TOKEN,
      _personal_token: 'Tok_1',
      _nickname: 'Grace Hopper',
      _email: 'grace@example.com',
      _avatar_url: 'https://images.example.com/grace.png',
      _password_token: 'Pass-2',
      _registrant_token: 'Reg_3',
    },
  },
  {
    name: 'scheduled room, upcoming (with its countdown)',
    links: [`/room/${SCHEDULED}`],
    license: SCHEDULED,
    options: {},
  },
  {
    name: 'scheduled room, running',
    links: [`/room/${LIVE_SCHEDULED}`],
    license: LIVE_SCHEDULED,
    options: {},
  },
  {
    name: 'repeating room, next occurrence upcoming',
    links: [`/room/${WEEKLY}`],
    license: WEEKLY,
    options: {},
  },
  {
    // Hosts get the room of a strict event before it opens to everyone else.
    name: 'strict room not open yet, host link',
    links: [`/room/${STRICT}/${STRICT_HOST_TOKEN}`],
    license: STRICT,
    options: { _role_token: STRICT_HOST_TOKEN },
  },
];
