/**
 * The panel's own icon: a page with a check mark.
 */
import { LabIcon } from '@jupyterlab/ui-components';

import readinessSvg from '../style/icons/readiness.svg';

export const readinessIcon = new LabIcon({
  name: 'readiness-magics:readiness',
  svgstr: readinessSvg
});
