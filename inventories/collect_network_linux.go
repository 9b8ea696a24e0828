//go:build linux

package inventories

import (
	"context"
	"fmt"
	"net"
	"strconv"
)

func init() { Register("network", CollectorFunc(collectNetwork)) }

// collectNetwork lists interfaces: one NETWORKS element per address (and
// one for an interface without any), with mask, subnet, gateway, MAC,
// status, MTU and speed.
func collectNetwork(ctx context.Context, inv *Inventory) error {
	ifs, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("list interfaces: %w", err)
	}
	gws := DefaultGateways(ParseRoutes(readSys("proc/net/route")))
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback != 0 {
			continue
		}
		base := Network{Description: i.Name, MACAddr: i.HardwareAddr.String(), MTU: strconv.Itoa(i.MTU), Status: "Down", Type: "ethernet"}
		if i.Flags&net.FlagUp != 0 {
			base.Status = "Up"
		}
		if sp := readSys("sys/class/net/" + i.Name + "/speed"); sp != "" && sp != "-1" {
			base.Speed = sp + " Mbps"
		}
		if readSys("sys/class/net/"+i.Name+"/device/uevent") == "" {
			base.VirtualDev = "1"
		} else {
			base.VirtualDev = "0"
		}
		base.Driver = driverOf(i.Name)
		addrs, _ := i.Addrs()
		added := false
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			n := base
			n.IPAddress = ipn.IP.String()
			n.IPMask = MaskString(ipn.Mask)
			n.IPSubnet = SubnetOf(ipn.IP, ipn.Mask)
			if ipn.IP.To4() != nil {
				n.IPGateway = gws[i.Name]
			}
			inv.Networks = append(inv.Networks, n)
			added = true
		}
		if !added {
			inv.Networks = append(inv.Networks, base)
		}
		if gw := gws[i.Name]; gw != "" && inv.Hardware.DefaultGateway == "" {
			inv.Hardware.DefaultGateway = gw
			for _, a := range addrs {
				if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
					inv.Hardware.IPAddr = ipn.IP.String()
					break
				}
			}
		}
	}
	return nil
}

func driverOf(ifname string) string {
	for _, line := range splitLines(readSys("sys/class/net/" + ifname + "/device/uevent")) {
		if len(line) > 7 && line[:7] == "DRIVER=" {
			return line[7:]
		}
	}
	return ""
}
