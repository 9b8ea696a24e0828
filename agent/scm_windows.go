//go:build windows

package agent

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"
)

// RunService runs loop under the Windows service manager as the service
// name, until the manager stops it (loop's ctx then ends). It talks to
// the manager directly (x/sys/windows/svc), so it works where a check of
// "am I a service?" guesses wrong (Wine).
func RunService(name string, loop func(ctx context.Context) error) error {
	return svc.Run(name, &scmHandler{loop: loop})
}

type scmHandler struct {
	loop func(ctx context.Context) error
}

func (h *scmHandler) Execute(args []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.loop(ctx) }()
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	for {
		select {
		case c := <-req:
			switch c.Cmd {
			case svc.Interrogate:
				status <- c.CurrentStatus
			case svc.Stop, svc.Shutdown:
				status <- svc.Status{State: svc.StopPending}
				cancel()
				<-done
				return false, 0
			}
		case err := <-done:
			if err != nil && ctx.Err() == nil {
				return false, 1 // ERROR_INVALID_FUNCTION: the loop failed
			}
			return false, 0
		}
	}
}

// RemoveService stops and deletes the service name from the service
// manager. It reports whether there was one.
func RemoveService(name string) (bool, error) {
	m, err := mgr.Connect()
	if err != nil {
		return false, fmt.Errorf("service manager: %w", err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(name)
	if err != nil {
		return false, nil // no such service
	}
	defer s.Close()
	if st, err := s.Query(); err == nil && st.State != svc.Stopped {
		s.Control(svc.Stop)
		for i := 0; i < 100; i++ { // up to 10 s for the loop to end
			if st, err := s.Query(); err != nil || st.State == svc.Stopped {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if err := s.Delete(); err != nil {
		return true, fmt.Errorf("delete service %s: %w", name, err)
	}
	return true, nil
}
