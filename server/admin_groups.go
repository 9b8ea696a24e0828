package server

import (
	"cmp"
	"context"
	"regexp"

	querylang "muster/server/query"
	"muster/server/store"
)

// Device groups as admin actions.

var groupName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$`)

// PutGroup creates or replaces a group: dynamic with a query in muster's
// device language (see server/query), static with a list of devices.
func (l LocalAdmin) PutGroup(ctx context.Context, name, query string, members []string) error {
	if !groupName.MatchString(name) {
		return invalid("group name %q: 1 to 64 letters, digits, spaces, '.', '_' or '-'", name)
	}
	if query == "" && len(members) == 0 {
		return invalid("group %s: give a query (dynamic) or devices (static)", name)
	}
	if len(members) > 100_000 {
		return invalid("group %s: at most 100,000 devices", name)
	}
	if query != "" {
		if len(members) > 0 {
			return invalid("group %s: a query or devices, not both", name)
		}
		if _, err := querylang.Parse(query); err != nil {
			return invalid("group %s: query: %v", name, err)
		}
	}
	who := cmp.Or(caller(ctx).Name, "local admin")
	return l.Store.PutGroup(ctx, store.Group{Name: name, Query: query, Members: members, Who: who}, l.now())
}

// Groups lists the groups.
func (l LocalAdmin) Groups(ctx context.Context) ([]store.Group, error) { return l.Store.Groups(ctx) }

// GroupMembers evaluates a group now.
func (l LocalAdmin) GroupMembers(ctx context.Context, name string) ([]store.GroupMember, error) {
	return l.Store.GroupMembers(ctx, name, l.now())
}

// DeleteGroup removes a group and the package assignments to it.
func (l LocalAdmin) DeleteGroup(ctx context.Context, name string) error {
	return l.Store.DeleteGroup(ctx, name)
}

// Find lists the devices a query in the device language matches (has or
// lacks software, versions, OS, …), evaluated by the store.
func (l LocalAdmin) Find(ctx context.Context, q string) ([]store.GroupMember, error) {
	if _, err := querylang.Parse(q); err != nil {
		return nil, invalid("query: %v", err)
	}
	return l.Store.Find(ctx, q, l.now())
}
